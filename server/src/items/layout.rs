//! Where an item sits in its text: the node that carries its comments, the attributes and
//! decorators above it, the comment block that leads it, and whether it is public.

use tree_sitter::Node;

use super::{Comment, Family, Item, ItemKind};

/// Per-language facts about the syntax tree that the queries do not express.
pub(super) struct Spec {
    /// Nodes that wrap a single item and start where its comments must end:
    /// `export`, decorated definitions, templates, a lone Go type spec.
    wrappers: &'static [&'static str],
    /// Siblings before an item that belong to it (attributes, decorators).
    attributes: &'static [&'static str],
    /// The first string statement of a body is the item's docstring.
    pub(super) docstrings: bool,
    /// C++ rules for publicity (access specifiers, anonymous namespaces).
    cpp: bool,
    /// Comments that document what encloses them, never the item below (Rust `//!`, `/*!`).
    inner_docs: &'static [&'static str],
}

impl Spec {
    pub(super) fn of(family: Family) -> Spec {
        match family {
            Family::Rust => Spec {
                wrappers: &[],
                attributes: &["attribute_item"],
                docstrings: false,
                cpp: false,
                inner_docs: &["//!", "/*!"],
            },
            Family::Python => Spec {
                wrappers: &["decorated_definition"],
                attributes: &[],
                docstrings: true,
                cpp: false,
                inner_docs: &[],
            },
            Family::EcmaScript => Spec {
                wrappers: &["export_statement", "expression_statement", "ambient_declaration"],
                attributes: &["decorator"],
                docstrings: false,
                cpp: false,
                inner_docs: &[],
            },
            Family::Go => Spec {
                wrappers: &["type_declaration"],
                attributes: &[],
                docstrings: false,
                cpp: false,
                inner_docs: &[],
            },
            Family::Java => {
                Spec { wrappers: &[], attributes: &[], docstrings: false, cpp: false, inner_docs: &[] }
            }
            Family::C => {
                Spec { wrappers: &[], attributes: &[], docstrings: false, cpp: false, inner_docs: &[] }
            }
            Family::Cpp => Spec {
                wrappers: &["template_declaration"],
                attributes: &["attribute_declaration"],
                docstrings: false,
                cpp: true,
                inner_docs: &[],
            },
        }
    }
}

/// What the tree says around an item node: found in one forward walk over the tree, because
/// tree-sitter's `parent()` and `prev_sibling()` rescan their parent's children (quadratic in a
/// flat file with many top-level items).
#[derive(Clone, Copy, Debug)]
pub(super) struct Context<'t> {
    /// The item node, or the wrapper around it that holds only it (`export class ...`,
    /// `@decorator def ...`, `template <..> class ...`, `type X struct{}`).
    pub(super) outer: Node<'t>,
    /// The attributes or decorators directly before `outer`: where the first starts and the
    /// last ends.
    attributes: Option<(usize, usize)>,
    /// C++: inside `namespace { ... }`.
    anonymous_namespace: bool,
    /// C++: a class member's access (after `public:`, or the default of its class or struct).
    member_public: Option<bool>,
}

impl<'t> Context<'t> {
    fn bare(node: Node<'t>) -> Context<'t> {
        Context { outer: node, attributes: None, anonymous_namespace: false, member_public: None }
    }

    /// Where the first attribute before the item starts and the last one ends.
    pub(super) fn attributes(&self) -> Option<(usize, usize)> {
        self.attributes
    }
}

/// What has been seen among the earlier siblings at one depth of the walk.
#[derive(Default)]
struct Level {
    /// The attributes directly before the current node (extras such as comments between them
    /// are skipped), nearest last.
    attributes: Vec<(usize, usize)>,
    /// C++: the last access specifier among the earlier siblings.
    access: Option<bool>,
}

impl Level {
    fn leave(&mut self, spec: &Spec, text: &str, node: Node) {
        if node.is_extra() {
            return;
        }
        if spec.attributes.contains(&node.kind()) {
            self.attributes.push((node.start_byte(), node.end_byte()));
            return;
        }
        self.attributes.clear();
        if spec.cpp && node.kind() == "access_specifier" {
            self.access = Some(text.get(node.byte_range()).is_some_and(|t| t.trim() == "public"));
        }
    }
}

/// The context of each target node (sorted by start, enclosing nodes first), walking the tree
/// once and only into the nodes that contain the next target.
pub(super) fn contexts<'t>(
    spec: &Spec,
    text: &str,
    root: Node<'t>,
    targets: &[Node<'t>],
) -> Vec<Context<'t>> {
    let index: std::collections::HashMap<usize, usize> =
        targets.iter().enumerate().map(|(i, node)| (node.id(), i)).collect();
    let mut found: Vec<Option<Context>> = vec![None; targets.len()];
    let mut next = 0;
    let mut cursor = root.walk();
    let mut ancestors: Vec<Node> = Vec::new();
    let mut levels: Vec<Level> = vec![Level::default()];
    'walk: loop {
        let node = cursor.node();
        if let Some(&i) = index.get(&node.id()) {
            if found[i].is_none() {
                found[i] = Some(context_here(spec, node, &ancestors, &levels));
            }
        }
        // Targets resolved, or passed without being met (they keep a bare context).
        while next < targets.len()
            && (found[next].is_some() || targets[next].start_byte() < node.start_byte())
        {
            next += 1;
        }
        let Some(goal) = targets.get(next).map(|t| t.start_byte()) else { break };
        if node.start_byte() <= goal && goal <= node.end_byte() && cursor.goto_first_child() {
            ancestors.push(node);
            levels.push(Level::default());
            continue;
        }
        loop {
            if let Some(level) = levels.last_mut() {
                level.leave(spec, text, cursor.node());
            }
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
            ancestors.pop();
            levels.pop();
        }
    }
    found
        .into_iter()
        .zip(targets)
        .map(|(context, node)| context.unwrap_or_else(|| Context::bare(*node)))
        .collect()
}

fn context_here<'t>(spec: &Spec, node: Node<'t>, ancestors: &[Node<'t>], levels: &[Level]) -> Context<'t> {
    // Climb into wrappers that hold only this node.
    let mut outer = node;
    let mut depth = ancestors.len();
    while depth > 0 {
        let parent = ancestors[depth - 1];
        if !spec.wrappers.contains(&parent.kind()) {
            break;
        }
        let kind = outer.kind();
        let mut cursor = parent.walk();
        if parent.named_children(&mut cursor).filter(|n| n.kind() == kind).count() > 1 {
            break; // `type ( A struct{}; B struct{} )`: the group is not A's alone
        }
        outer = parent;
        depth -= 1;
    }
    let attributes = &levels[depth].attributes;
    let mut context = Context {
        outer,
        attributes: attributes.first().zip(attributes.last()).map(|(first, last)| (first.0, last.1)),
        anonymous_namespace: false,
        member_public: None,
    };
    if spec.cpp {
        context.anonymous_namespace = ancestors
            .iter()
            .any(|a| a.kind() == "namespace_definition" && a.child_by_field_name("name").is_none());
        // The innermost member list holding the node, seen from the node's own level up.
        for depth in (1..=ancestors.len()).rev() {
            let parent = ancestors[depth - 1];
            match parent.kind() {
                "field_declaration_list" => {
                    let owner_is_class = depth >= 2 && ancestors[depth - 2].kind() == "class_specifier";
                    context.member_public = Some(levels[depth].access.unwrap_or(!owner_is_class));
                    break;
                }
                "compound_statement" | "translation_unit" | "declaration_list" => break,
                _ => {}
            }
        }
    }
    context
}

/// Indexes of the comments that lead an item starting at `start`, top to bottom: each one
/// starts its own line and ends on the line just above the next one (or the item), with the
/// item's attributes or decorators allowed in between. Docstrings (strings) never lead.
pub(super) fn comments_above(
    spec: &Spec,
    text: &str,
    comments: &[Comment],
    is_string: &[bool],
    outer_start: usize,
    attributes: Option<(usize, usize)>,
) -> Vec<usize> {
    // A docstring never leads; an inner doc comment documents what encloses it.
    let cannot_lead = |c: usize| {
        is_string[c]
            || text.get(comments[c].start..).is_some_and(|t| spec.inner_docs.iter().any(|p| t.starts_with(p)))
    };
    let mut leading = Vec::new();
    let mut top = outer_start;
    let mut below = comments.partition_point(|c| c.end <= top);
    loop {
        while below > 0 && comments[below - 1].end > top {
            below -= 1;
        }
        let comment = below.checked_sub(1);
        let Some(c) = comment else { break };
        if let Some((first, last_end)) = attributes {
            // A comment among the attributes: step over the attributes to the comment.
            if comments[c].start >= first && comments[c].end <= last_end {
                if cannot_lead(c) {
                    break;
                }
                leading.push(c);
                top = comments[c].start;
                below = c;
                continue;
            }
            if top > first && comments[c].end <= first {
                top = first;
                continue;
            }
        }
        if cannot_lead(c) || !directly_above(text, comments[c], top) {
            break;
        }
        leading.push(c);
        top = comments[c].start;
        below = c;
    }
    leading.reverse();
    leading
}

/// The comment starts its line and nothing but line breaks and blanks (no empty line) lies
/// between its end and `top`.
fn directly_above(text: &str, comment: Comment, top: usize) -> bool {
    let (Some(gap), Some(body)) = (text.get(comment.end..top), text.get(comment.start..comment.end)) else {
        return false;
    };
    if !gap.chars().all(char::is_whitespace) {
        return false;
    }
    if gap.matches('\n').count() + usize::from(body.ends_with('\n')) > 1 {
        return false;
    }
    let line = line_start(text, comment.start);
    text[line..comment.start].chars().all(|c| c == ' ' || c == '\t')
}

/// The Python docstring of a class or function: the first statement of its body, when it is
/// a lone string that the comment query captured.
pub(super) fn docstring(node: Node, comments: &[Comment]) -> Option<usize> {
    let body = node.child_by_field_name("body")?;
    let mut cursor = body.walk();
    let first = body.named_children(&mut cursor).find(|n| !n.is_extra())?;
    if first.kind() != "expression_statement" || first.named_child_count() != 1 {
        return None;
    }
    let string = first.named_child(0)?;
    if string.kind() != "string" {
        return None;
    }
    let found = comments.binary_search_by_key(&string.start_byte(), |c| c.start).ok()?;
    (comments[found].end == string.end_byte()).then_some(found)
}

/// The blanks that indent the line starting at `line_start`.
pub(super) fn indent_at(text: &str, line_start: usize) -> String {
    text[line_start..].chars().take_while(|c| *c == ' ' || *c == '\t').collect()
}

pub(super) fn line_start(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
}

/// The item's name: the text of its name node (at `range`), without the quotes of a string name.
pub(super) fn name_text(text: &str, range: std::ops::Range<usize>) -> String {
    let raw = text.get(range).unwrap_or("");
    for quote in ['"', '\'', '`'] {
        if raw.len() >= 2 && raw.starts_with(quote) && raw.ends_with(quote) {
            return raw[1..raw.len() - 1].to_string();
        }
    }
    raw.to_string()
}

fn has_child(node: Node, kind: &str, text: &str, wanted: Option<&str>) -> bool {
    let mut cursor = node.walk();
    let found = node
        .children(&mut cursor)
        .any(|c| c.kind() == kind && wanted.is_none_or(|w| text.get(c.byte_range()) == Some(w)));
    found
}

/// The item's own visibility, by the rules of its language (see [`Item::is_public`]).
/// Items inside functions are handled by the caller.
pub(super) fn is_public(
    family: Family,
    text: &str,
    node: Node,
    context: &Context,
    name: &str,
    parent: Option<(&Item, Node)>,
) -> bool {
    match family {
        Family::Rust => {
            if node.kind() == "impl_item" {
                return false; // an impl has no visibility of its own
            }
            if has_child(node, "visibility_modifier", text, Some("pub")) {
                return true;
            }
            match parent {
                Some((p, _)) if p.kind == ItemKind::Trait => p.is_public,
                Some((p, impl_node)) if p.kind == ItemKind::Impl => {
                    impl_node.child_by_field_name("trait").is_some()
                }
                _ => false,
            }
        }
        Family::Python => {
            let dunder = name.len() > 4 && name.starts_with("__") && name.ends_with("__");
            dunder || !name.starts_with('_')
        }
        Family::Go => name.chars().next().is_some_and(char::is_uppercase),
        Family::Java => {
            let mut cursor = node.walk();
            let modifiers = node.children(&mut cursor).find(|c| c.kind() == "modifiers");
            let has = |m: &str| modifiers.is_some_and(|mods| has_child(mods, m, text, None));
            if has("public") {
                return true;
            }
            let in_interface = parent.is_some_and(|(p, _)| p.kind == ItemKind::Interface);
            in_interface && !has("private") && !has("protected")
        }
        Family::EcmaScript => match parent {
            Some((p, _)) if matches!(p.kind, ItemKind::Class | ItemKind::Interface) => {
                let hidden = ["private", "protected"]
                    .iter()
                    .any(|m| has_child(node, "accessibility_modifier", text, Some(m)));
                !hidden && !name.starts_with('#')
            }
            _ => context.outer.kind() == "export_statement",
        },
        Family::C => !has_child(node, "storage_class_specifier", text, Some("static")),
        Family::Cpp => {
            !has_child(node, "storage_class_specifier", text, Some("static"))
                && !context.anonymous_namespace
                && context.member_public.unwrap_or(true)
        }
    }
}

/// Where the file's preamble ends: the start of the first node that is neither a comment nor
/// a package, import, include or inner-attribute line (nor, in Python, the module docstring;
/// in JavaScript and TypeScript, a directive such as `"use strict"`). Comments before it that
/// lead no item are the file header. C and C++ include guards and `extern "C" {` are looked
/// into, since they wrap the whole file.
pub(super) fn preamble_end(family: Family, root: Node) -> usize {
    first_code(family, root, true).unwrap_or(root.end_byte())
}

fn first_code(family: Family, container: Node, top: bool) -> Option<usize> {
    let mut cursor = container.walk();
    let mut first_statement = top;
    let mut more = cursor.goto_first_child();
    while more {
        let child = cursor.node();
        let field = cursor.field_name();
        more = cursor.goto_next_sibling();
        if child.is_extra() || !child.is_named() {
            continue;
        }
        if !top && matches!(field, Some("name" | "condition" | "value")) {
            continue; // `#ifndef NAME`, `#if COND`, `extern "C"`
        }
        let is_docstring = first_statement && is_lone_string(child);
        first_statement = false;
        match preamble_role(family, child, is_docstring) {
            Preamble::Line => continue,
            Preamble::Container => match first_code(family, child, false) {
                Some(start) => return Some(start),
                None => continue,
            },
            Preamble::Code => return Some(child.start_byte()),
        }
    }
    None
}

enum Preamble {
    /// Part of the preamble.
    Line,
    /// Wraps the rest of the file: look inside.
    Container,
    /// The preamble ends here.
    Code,
}

fn is_lone_string(node: Node) -> bool {
    node.kind() == "expression_statement"
        && node.named_child_count() == 1
        && node.named_child(0).is_some_and(|n| n.kind() == "string")
}

fn preamble_role(family: Family, node: Node, is_first_lone_string: bool) -> Preamble {
    let kind = node.kind();
    let line = match family {
        Family::Rust => {
            matches!(
                kind,
                "use_declaration" | "extern_crate_declaration" | "inner_attribute_item" | "attribute_item"
            ) || (kind == "mod_item" && node.child_by_field_name("body").is_none())
        }
        Family::Python => {
            matches!(kind, "import_statement" | "import_from_statement" | "future_import_statement")
                || is_first_lone_string
        }
        Family::EcmaScript => {
            matches!(kind, "import_statement" | "hash_bang_line")
                || is_lone_string(node)
                || (kind == "export_statement" && node.child_by_field_name("source").is_some())
        }
        Family::Go => matches!(kind, "package_clause" | "import_declaration"),
        Family::Java => matches!(kind, "package_declaration" | "import_declaration"),
        Family::C | Family::Cpp => {
            if matches!(
                kind,
                "preproc_ifdef"
                    | "preproc_if"
                    | "preproc_else"
                    | "preproc_elif"
                    | "linkage_specification"
                    | "declaration_list"
            ) {
                return Preamble::Container;
            }
            matches!(
                kind,
                "preproc_include"
                    | "preproc_def"
                    | "preproc_function_def"
                    | "preproc_call"
                    | "using_declaration"
                    | "namespace_alias_definition"
            )
        }
    };
    if line {
        Preamble::Line
    } else {
        Preamble::Code
    }
}
