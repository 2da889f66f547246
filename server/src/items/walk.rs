//! The builtin queries of a language, answered by one walk over the syntax tree.
//!
//! A query cursor keeps the partial matches of every pattern at every node it passes: on real
//! Rust that was a fifth of an item-level check. A walk keeps a little state per level (the
//! parent's kind and field, and what the run of attributes and comments before the current
//! node says) and finds the same items and comments. It stands in for the builtin queries only
//! (an override file is always run by the cursor), and `tests.rs` compares the two on every
//! fixture, mutations of them, this repository's sources and, by hand, a corpus of real code.

use std::sync::OnceLock;

use tree_sitter::Node;

use super::ItemKind;

/// What a walk (or the query cursor) finds: comments as `(start, end, is_string)`, and items
/// as `(item node, name node, kind, is_test)` in tree order.
#[derive(Default)]
pub(crate) struct Walked<'t> {
    pub comments: Vec<(usize, usize, bool)>,
    pub items: Vec<(Node<'t>, Node<'t>, ItemKind, bool)>,
}

pub(crate) type Walk = for<'t> fn(Node<'t>, &[u8]) -> Walked<'t>;

/// The node kinds and fields `queries/rust/{comments,items}.scm` name, as the grammar numbers them.
struct RustIds {
    line_comment: u16,
    block_comment: u16,
    attribute_item: u16,
    attribute: u16,
    identifier: u16,
    type_identifier: u16,
    scoped_identifier: u16,
    token_tree: u16,
    declaration_list: u16,
    function_item: u16,
    function_signature_item: u16,
    struct_item: u16,
    union_item: u16,
    enum_item: u16,
    trait_item: u16,
    impl_item: u16,
    mod_item: u16,
    name: u16,
    body: u16,
    type_: u16,
    arguments: u16,
}

fn rust_ids() -> &'static RustIds {
    static IDS: OnceLock<RustIds> = OnceLock::new();
    IDS.get_or_init(|| {
        let language: tree_sitter::Language = tree_sitter_rust::LANGUAGE.into();
        let kind = |name: &str| {
            let id = language.id_for_node_kind(name, true);
            assert_ne!(id, 0, "tree-sitter-rust has no node {name}");
            id
        };
        let field =
            |name: &str| language.field_id_for_name(name).unwrap_or_else(|| panic!("no field {name}")).get();
        RustIds {
            line_comment: kind("line_comment"),
            block_comment: kind("block_comment"),
            attribute_item: kind("attribute_item"),
            attribute: kind("attribute"),
            identifier: kind("identifier"),
            type_identifier: kind("type_identifier"),
            scoped_identifier: kind("scoped_identifier"),
            token_tree: kind("token_tree"),
            declaration_list: kind("declaration_list"),
            function_item: kind("function_item"),
            function_signature_item: kind("function_signature_item"),
            struct_item: kind("struct_item"),
            union_item: kind("union_item"),
            enum_item: kind("enum_item"),
            trait_item: kind("trait_item"),
            impl_item: kind("impl_item"),
            mod_item: kind("mod_item"),
            name: field("name"),
            body: field("body"),
            type_: field("type"),
            arguments: field("arguments"),
        }
    })
}

/// A node whose children are being walked.
#[derive(Clone, Copy)]
struct Level {
    kind: u16,
    /// Its field in its own parent (0: none).
    field: u16,
    /// The run of attributes and comments just before the current child holds a test
    /// attribute (`#[test]`, `#[tokio::test]`, ...) or `#[cfg(test)]`.
    test_attribute: bool,
    cfg_test: bool,
}

/// `queries/rust/*.scm`: comments; functions, methods (in an impl's or a trait's body), tests
/// (a function after a test attribute, with only attributes and comments between), structs,
/// unions, enums, traits, impls (named after their type) and modules with a body (test modules
/// after `#[cfg(test)]`). Where several patterns match one node, the test wins, then the method.
pub(super) fn rust<'t>(root: Node<'t>, text: &[u8]) -> Walked<'t> {
    let ids = rust_ids();
    let mut walked = Walked::default();
    let mut cursor = root.walk();
    let mut levels: Vec<Level> = Vec::new();
    loop {
        let node = cursor.node();
        let kind = node.kind_id();
        let is_comment = kind == ids.line_comment || kind == ids.block_comment;
        // Anonymous nodes (punctuation) neither break a run of attributes nor are items.
        if node.is_named() {
            if is_comment {
                walked.comments.push((node.start_byte(), node.end_byte(), false));
            } else if let Some(parent) = levels.last() {
                let grandparent = levels.len().checked_sub(2).map(|i| levels[i]);
                if let Some((name, kind, test)) = rust_item(ids, node, kind, parent, grandparent) {
                    walked.items.push((node, name, kind, test));
                }
            }
            if let Some(parent) = levels.last_mut() {
                if kind == ids.attribute_item {
                    let (test, cfg_test) = rust_attribute(ids, node, text);
                    parent.test_attribute |= test;
                    parent.cfg_test |= cfg_test;
                } else if !is_comment {
                    parent.test_attribute = false;
                    parent.cfg_test = false;
                }
            }
        }
        let field = cursor.field_id().map_or(0, |f| f.get());
        if !is_comment && cursor.goto_first_child() {
            levels.push(Level { kind, field, test_attribute: false, cfg_test: false });
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return walked;
            }
            levels.pop();
        }
    }
}

/// The item a named node is, with its name node, kind and whether it is a test.
fn rust_item<'t>(
    ids: &RustIds,
    node: Node<'t>,
    kind: u16,
    parent: &Level,
    grandparent: Option<Level>,
) -> Option<(Node<'t>, ItemKind, bool)> {
    let named = |field: u16, kinds: &[u16]| {
        node.child_by_field_id(field).filter(|n| kinds.contains(&n.kind_id()) && n.is_named())
    };
    // The body of an impl or a trait (for methods), and which of the two.
    let in_body_of = |of: u16| {
        parent.kind == ids.declaration_list
            && parent.field == ids.body
            && grandparent.is_some_and(|g| g.kind == of)
    };
    if kind == ids.function_item {
        let name = named(ids.name, &[ids.identifier])?;
        return Some(if parent.test_attribute {
            (name, ItemKind::Test, true)
        } else if in_body_of(ids.impl_item) || in_body_of(ids.trait_item) {
            (name, ItemKind::Method, false)
        } else {
            (name, ItemKind::Function, false)
        });
    }
    if kind == ids.function_signature_item {
        return in_body_of(ids.trait_item)
            .then(|| named(ids.name, &[ids.identifier]))
            .flatten()
            .map(|name| (name, ItemKind::Method, false));
    }
    let (name, item) = if kind == ids.struct_item || kind == ids.union_item {
        (named(ids.name, &[ids.type_identifier])?, ItemKind::Struct)
    } else if kind == ids.enum_item {
        (named(ids.name, &[ids.type_identifier])?, ItemKind::Enum)
    } else if kind == ids.trait_item {
        (named(ids.name, &[ids.type_identifier])?, ItemKind::Trait)
    } else if kind == ids.impl_item {
        (node.child_by_field_id(ids.type_).filter(|n| n.is_named())?, ItemKind::Impl)
    } else if kind == ids.mod_item {
        let name = named(ids.name, &[ids.identifier])?;
        named(ids.body, &[ids.declaration_list])?;
        return Some((name, ItemKind::Module, parent.cfg_test));
    } else {
        return None;
    };
    Some((name, item, false))
}

/// Whether an `attribute_item` is a test attribute (`test`, `rstest`, `test_case`,
/// `quickcheck`, bare or as the last segment of a path), and whether it is `#[cfg(test)]`.
fn rust_attribute(ids: &RustIds, item: Node, text: &[u8]) -> (bool, bool) {
    let (mut test, mut cfg_test) = (false, false);
    let said = |node: Node, word: &str| text.get(node.start_byte()..node.end_byte()) == Some(word.as_bytes());
    let mut items = item.walk();
    for attribute in item.named_children(&mut items).filter(|n| n.kind_id() == ids.attribute) {
        let mut seen_cfg = false;
        let mut children = attribute.walk();
        let mut more = children.goto_first_child();
        while more {
            let (child, field) = (children.node(), children.field_id().map_or(0, |f| f.get()));
            more = children.goto_next_sibling();
            if !child.is_named() {
                continue;
            }
            let word = if child.kind_id() == ids.identifier {
                Some(child)
            } else if child.kind_id() == ids.scoped_identifier {
                child.child_by_field_id(ids.name).filter(|n| n.kind_id() == ids.identifier)
            } else {
                None
            };
            if let Some(word) = word {
                test |= ["test", "rstest", "test_case", "quickcheck"].iter().any(|w| said(word, w));
                seen_cfg |= child.kind_id() == ids.identifier && said(word, "cfg");
            }
            // `cfg` then `arguments: (token_tree (identifier))` reading `test`.
            if seen_cfg && field == ids.arguments && child.kind_id() == ids.token_tree {
                let mut inside = child.walk();
                cfg_test |= child
                    .named_children(&mut inside)
                    .any(|n| n.kind_id() == ids.identifier && said(n, "test"));
            }
        }
    }
    (test, cfg_test)
}
