//! The rule table: what each kind of secret looks like.
//!
//! Every rule has keywords (a cheap prefilter: the regex only runs on text
//! that contains one of them), a regex whose `secret` group is the
//! credential, and a minimum Shannon entropy for that secret (or for the `body`
//! group, where the rule has one). Rules are listed in priority order: when two
//! findings overlap, the earlier specific rule wins, and any specific rule wins
//! over a generic assignment rule.

/// ASCII word boundary: the token must not continue, or be continued by, a
/// longer word. ASCII-only keeps the regex on its fastest engines.
macro_rules! word_boundary {
    () => {
        r"(?-u:\b)"
    };
}

/// Start of a token: a word boundary, or the end of a terminal colour code
/// (raw, or escaped as in a JSON log), which ends in a letter and would
/// otherwise hide a key printed in colour.
macro_rules! token_start {
    () => {
        r"(?:(?-u:\b)|(?:\x1b|\\u001[bB]|\\x1[bB]|\\e|\\033)\[[0-9;]{0,20}m)"
    };
}

/// Trailing boundary for tokens made of ASCII letters and digits.
macro_rules! end_of_alnum {
    () => {
        r"(?:[^A-Za-z0-9]|\z)"
    };
}

/// Trailing boundary for tokens that may also contain `_` and `-`.
macro_rules! end_of_urlsafe {
    () => {
        r"(?:[^A-Za-z0-9_-]|\z)"
    };
}

/// How a rule's regex is written.
#[derive(Debug, Clone, Copy)]
pub(super) enum Pattern {
    /// A complete regex with a `secret` group (and optionally a `body` group).
    Token(&'static str),
    /// `<identifier containing a name> <operator> <value>`, built by
    /// [`assignment_pattern`]; for generic rules the identifier is judged in
    /// code afterwards.
    Assignment { names: &'static str, value: ValueShape },
}

/// What an assigned value may look like, quoted and unquoted.
#[derive(Debug, Clone, Copy)]
pub(super) struct ValueShape {
    /// Regex for the value between quotes.
    pub quoted: &'static str,
    /// Regex for an unquoted value.
    pub bare: &'static str,
    /// Character class (without brackets) that may not follow a bare value.
    pub bare_chars: &'static str,
}

impl ValueShape {
    /// Anything up to the closing quote; unquoted, the characters keys and
    /// passwords are usually made of.
    const FREE_TEXT_10: ValueShape = ValueShape {
        quoted: r#"[^"'`\s\\]{10,500}"#,
        bare: r"[A-Za-z0-9_./+=~-]{10,200}",
        bare_chars: r"A-Za-z0-9_./+=~-",
    };
    /// The same, from eight characters: passwords may be shorter than keys.
    const FREE_TEXT_8: ValueShape = ValueShape {
        quoted: r#"[^"'`\s\\]{8,500}"#,
        bare: r"[A-Za-z0-9_./+=~-]{8,200}",
        bare_chars: r"A-Za-z0-9_./+=~-",
    };
    /// Exactly 40 base64 characters.
    const AWS_SECRET: ValueShape =
        ValueShape { quoted: r"[A-Za-z0-9/+]{40}", bare: r"[A-Za-z0-9/+]{40}", bare_chars: r"A-Za-z0-9/+=" };
}

/// Prefilter literals. Vendor prefixes are matched exactly, because the
/// rule's regex is case-sensitive and the literal occurs verbatim in every
/// match; that lets one fast multi-literal pass cover all vendor rules.
/// Names in assignments are matched in any ASCII case.
#[derive(Debug, Clone, Copy)]
pub(super) enum Keywords {
    Exact(&'static [&'static str]),
    AnyCase(&'static [&'static str]),
}

/// Which extra judgement a match needs after regex and entropy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RuleKind {
    /// The shape alone identifies the credential (vendor prefixes, PEM headers).
    Token,
    /// A named assignment of an API key, token or secret of unknown vendor.
    GenericSecret,
    /// A named assignment of a password.
    GenericPassword,
}

/// One secret rule. The public fields describe it (for SARIF `rules` and
/// hover help); the pattern itself stays private to the scanner.
#[derive(Debug)]
pub struct RuleInfo {
    /// Stable identifier, used in fingerprints and reports.
    pub id: &'static str,
    /// What was found, in one sentence.
    pub description: &'static str,
    /// What to do next.
    pub help: &'static str,
    /// Substrings one of which every match contains; text without any of
    /// them is not searched with this rule's regex.
    pub(super) keywords: Keywords,
    /// Shannon entropy (bits per byte) the secret must reach.
    pub min_entropy: f64,
    pub(super) pattern: Pattern,
    pub(super) kind: RuleKind,
}

const ROTATE_HELP: &str = "Revoke and rotate this credential with its provider now (it may already be \
    copied), remove it from the file and from git history, and load it from an environment \
    variable or a secret store instead. If it is a deliberate test fixture, add \
    `concord:allow-secret` on its line or accept its fingerprint in the baseline.";

pub(super) static RULES: &[RuleInfo] = &[
    RuleInfo {
        id: "private-key",
        description: "Private key block (PEM, OpenSSH or PGP armour).",
        help: "Treat the key as compromised: replace it, revoke certificates or authorised \
               keys issued for it, and keep key files out of the repository (add them to \
               .gitignore). If it is a deliberate test key, add `concord:allow-secret` on its \
               BEGIN line.",
        keywords: Keywords::Exact(&["PRIVATE KEY"]),
        min_entropy: 3.5,
        // Line breaks may be real, escaped inside a JSON string (`\n`), or
        // flattened to spaces; the END line is optional so that a key cut off
        // in a log is still reported.
        pattern: Pattern::Token(concat!(
            r"(?P<secret>-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----",
            r"(?:\r?\n|\\r\\n|\\n|[ \t])*",
            r"(?:[A-Za-z][A-Za-z0-9-]{0,40}:[^\r\n\\]{0,200}(?:\r?\n|\\r\\n|\\n)(?:\r?\n|\\r\\n|\\n|[ \t])*){0,8}",
            r"(?P<body>[A-Za-z0-9+/=]{40,}(?:(?:\r?\n|\\r\\n|\\n|[ \t])+[A-Za-z0-9+/=]+)*)",
            r"(?:(?:\r?\n|\\r\\n|\\n|[ \t])*-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----)?)",
        )),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "openai-project-key",
        description: "OpenAI project API key (sk-proj-...).",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&["sk-proj-"]),
        min_entropy: 3.5,
        pattern: Pattern::Token(concat!(
            token_start!(),
            r"(?P<secret>sk-proj-[A-Za-z0-9_-]{40,250})",
            end_of_urlsafe!()
        )),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "openai-service-account-key",
        description: "OpenAI service-account API key (sk-svcacct-...).",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&["sk-svcacct-"]),
        min_entropy: 3.5,
        pattern: Pattern::Token(concat!(
            token_start!(),
            r"(?P<secret>sk-svcacct-[A-Za-z0-9_-]{40,250})",
            end_of_urlsafe!()
        )),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "openai-admin-key",
        description: "OpenAI admin API key (sk-admin-...), which can manage the whole organisation.",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&["sk-admin-"]),
        min_entropy: 3.5,
        pattern: Pattern::Token(concat!(
            token_start!(),
            r"(?P<secret>sk-admin-[A-Za-z0-9_-]{40,250})",
            end_of_urlsafe!()
        )),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "openai-api-key",
        description: "OpenAI user API key (legacy sk-... form with the T3BlbkFJ marker).",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&["T3BlbkFJ"]),
        min_entropy: 3.5,
        pattern: Pattern::Token(concat!(
            token_start!(),
            r"(?P<secret>sk-(?:None-)?[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})",
            end_of_urlsafe!()
        )),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "anthropic-api-key",
        description: "Anthropic API key (sk-ant-api03-...).",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&["sk-ant-api"]),
        min_entropy: 3.5,
        pattern: Pattern::Token(concat!(
            token_start!(),
            r"(?P<secret>sk-ant-api[0-9]{2}-[A-Za-z0-9_-]{80,150})",
            end_of_urlsafe!()
        )),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "anthropic-admin-key",
        description: "Anthropic admin API key (sk-ant-admin01-...), which can manage the organisation.",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&["sk-ant-admin"]),
        min_entropy: 3.5,
        pattern: Pattern::Token(concat!(
            token_start!(),
            r"(?P<secret>sk-ant-admin[0-9]{2}-[A-Za-z0-9_-]{80,150})",
            end_of_urlsafe!()
        )),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "anthropic-oauth-token",
        description:
            "Anthropic OAuth access or refresh token (sk-ant-oat01-/sk-ant-ort01-), e.g. a Claude Code login.",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&["sk-ant-oat", "sk-ant-ort"]),
        min_entropy: 3.5,
        pattern: Pattern::Token(concat!(
            token_start!(),
            r"(?P<secret>sk-ant-o(?:at|rt)[0-9]{2}-[A-Za-z0-9_-]{40,250})",
            end_of_urlsafe!()
        )),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "aws-access-key-id",
        description: "AWS access key ID (AKIA/ASIA/ABIA/ACCA...); its secret key is usually nearby.",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&["AKIA", "ASIA", "ABIA", "ACCA"]),
        // Sixteen random base32 characters after a fixed prefix sometimes
        // score below 3 bits; placeholders (AKIAXXXX...) score below 1.
        min_entropy: 2.5,
        pattern: Pattern::Token(concat!(
            token_start!(),
            r"(?P<secret>(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})",
            word_boundary!()
        )),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "aws-secret-access-key",
        description: "AWS secret access key assigned to an aws_secret_access_key-like name.",
        help: ROTATE_HELP,
        keywords: Keywords::AnyCase(&["secret"]),
        min_entropy: 4.0,
        pattern: Pattern::Assignment {
            names: r"aws[_.-]?secret(?:[_.-]?access)?(?:[_.-]?key)?|secret[_.-]?access[_.-]?key",
            value: ValueShape::AWS_SECRET,
        },
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "github-pat",
        description: "GitHub personal access token (classic, ghp_...).",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&["ghp_"]),
        min_entropy: 3.5,
        pattern: Pattern::Token(concat!(token_start!(), r"(?P<secret>ghp_[A-Za-z0-9]{36})", end_of_alnum!())),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "github-fine-grained-pat",
        description: "GitHub fine-grained personal access token (github_pat_...).",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&["github_pat_"]),
        min_entropy: 3.5,
        pattern: Pattern::Token(concat!(
            token_start!(),
            r"(?P<secret>github_pat_[A-Za-z0-9_]{82})",
            r"(?:[^A-Za-z0-9_]|\z)"
        )),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "github-oauth-token",
        description: "GitHub OAuth access token (gho_...).",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&["gho_"]),
        min_entropy: 3.5,
        pattern: Pattern::Token(concat!(token_start!(), r"(?P<secret>gho_[A-Za-z0-9]{36})", end_of_alnum!())),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "github-app-token",
        description: "GitHub App user-to-server or server-to-server token (ghu_/ghs_...).",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&["ghu_", "ghs_"]),
        min_entropy: 3.5,
        pattern: Pattern::Token(concat!(
            token_start!(),
            r"(?P<secret>gh[us]_[A-Za-z0-9]{36})",
            end_of_alnum!()
        )),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "github-refresh-token",
        description: "GitHub refresh token (ghr_...).",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&["ghr_"]),
        min_entropy: 3.5,
        pattern: Pattern::Token(concat!(
            token_start!(),
            r"(?P<secret>ghr_[A-Za-z0-9]{36,76})",
            end_of_alnum!()
        )),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "gitlab-pat",
        description: "GitLab personal access token (glpat-...).",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&["glpat-"]),
        min_entropy: 3.0,
        pattern: Pattern::Token(concat!(
            token_start!(),
            r"(?P<secret>glpat-[A-Za-z0-9_-]{20,300}(?:\.[0-9a-z]{9})?)",
            end_of_urlsafe!()
        )),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "gitlab-token",
        description:
            "GitLab deploy, runner, pipeline-trigger, feed, mail, agent, OAuth-app, CI job or SCIM token.",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&[
            "gldt-",
            "glrt-",
            "glptt-",
            "glft-",
            "glimt-",
            "glagent-",
            "gloas-",
            "glcbt-",
            "glsoat-",
            "glffct-",
            "GR1348941",
        ]),
        min_entropy: 3.0,
        pattern: Pattern::Token(concat!(
            token_start!(),
            r"(?P<secret>(?:gl(?:dt|rt|ft|imt|soat|ffct)-[A-Za-z0-9_-]{20,64}",
            r"|glagent-[A-Za-z0-9_-]{50,64}",
            r"|gloas-[A-Za-z0-9_-]{64}",
            r"|glptt-[0-9a-f]{40}",
            r"|glcbt-[0-9A-Za-z]{1,5}_[0-9A-Za-z_-]{20,64}",
            r"|GR1348941[A-Za-z0-9_-]{20,64})",
            r"(?:\.[0-9a-z]{9})?)",
            end_of_urlsafe!()
        )),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "slack-bot-token",
        description: "Slack bot token (xoxb-...).",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&["xoxb-"]),
        min_entropy: 3.0,
        pattern: Pattern::Token(concat!(
            token_start!(),
            r"(?P<secret>xoxb-[0-9]{8,14}-(?:[0-9]{8,14}-)?[A-Za-z0-9]{18,40})",
            end_of_alnum!()
        )),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "slack-user-token",
        description: "Slack user token (xoxp-/xoxe-...).",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&["xoxp-", "xoxe-"]),
        min_entropy: 3.0,
        pattern: Pattern::Token(concat!(
            token_start!(),
            r"(?P<secret>xox[pe](?:-[0-9]{8,14}){3}-[A-Za-z0-9]{28,34})",
            end_of_alnum!()
        )),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "slack-app-token",
        description: "Slack app-level token (xapp-...).",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&["xapp-"]),
        min_entropy: 3.0,
        pattern: Pattern::Token(concat!(
            token_start!(),
            r"(?P<secret>xapp-[0-9]-[A-Za-z0-9]{8,16}-[0-9]{8,16}-[A-Za-z0-9]{32,80})",
            end_of_alnum!()
        )),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "slack-legacy-token",
        description: "Slack legacy workspace, refresh or user token (xoxa-/xoxr-/xoxs-/xoxo-...).",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&["xoxa-", "xoxr-", "xoxs-", "xoxo-"]),
        min_entropy: 2.5,
        pattern: Pattern::Token(concat!(
            token_start!(),
            r"(?P<secret>xox[ar]-(?:[0-9]-)?[0-9A-Za-z]{8,48}(?:-[0-9A-Za-z]{1,48}){0,4}",
            r"|xox[os]-[0-9]{1,16}-[0-9]{1,16}-[0-9]{1,16}-[0-9A-Fa-f]{6,64})",
            r"(?:[^A-Za-z0-9-]|\z)"
        )),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "slack-webhook-url",
        description: "Slack incoming-webhook or workflow URL, which lets anyone post to the channel.",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&["hooks.slack.com"]),
        min_entropy: 3.0,
        pattern: Pattern::Token(concat!(
            r"(?P<secret>(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/",
            r"(?P<body>[A-Za-z0-9+/]{40,120}))",
            r"(?:[^A-Za-z0-9+/]|\z)"
        )),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "stripe-secret-key",
        description: "Stripe secret or restricted API key (sk_/rk_ live, test or prod).",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&["sk_live_", "sk_test_", "sk_prod_", "rk_live_", "rk_test_", "rk_prod_"]),
        min_entropy: 3.0,
        pattern: Pattern::Token(concat!(
            token_start!(),
            r"(?P<secret>[rs]k_(?:live|test|prod)_[A-Za-z0-9]{16,247})",
            end_of_alnum!()
        )),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "gcp-api-key",
        description: "Google Cloud / Firebase API key (AIza...).",
        help: ROTATE_HELP,
        keywords: Keywords::Exact(&["AIza"]),
        min_entropy: 4.0,
        pattern: Pattern::Token(concat!(
            token_start!(),
            r"(?P<secret>AIza[A-Za-z0-9_-]{35})",
            end_of_urlsafe!()
        )),
        kind: RuleKind::Token,
    },
    RuleInfo {
        id: "generic-api-key",
        description:
            "High-entropy value assigned to a name such as api_key, secret, token, auth or credentials.",
        help: "If this is a real credential, rotate it and load it from the environment or a \
               secret store. If it is not a secret (an ID, a hash, a public value), add \
               `concord:allow-secret` on the line, or accept its fingerprint in the baseline.",
        keywords: Keywords::AnyCase(&["key", "secret", "token", "cred", "auth"]),
        min_entropy: 3.5,
        pattern: Pattern::Assignment {
            names: r"api[_.-]?key|secret|token|credentials?|creds|auth|key",
            value: ValueShape::FREE_TEXT_10,
        },
        kind: RuleKind::GenericSecret,
    },
    RuleInfo {
        id: "generic-password",
        description: "Hard-coded password: a varied value assigned to a name such as password or passwd.",
        help: "Move the password to the environment or a secret store and change it, since it \
               has been shared. If it is a dummy value for tests, add `concord:allow-secret` on \
               the line.",
        keywords: Keywords::AnyCase(&["pass", "pwd"]),
        min_entropy: 3.0,
        pattern: Pattern::Assignment {
            names: r"passw(?:or)?d|passphrase|pass|pwd",
            value: ValueShape::FREE_TEXT_8,
        },
        kind: RuleKind::GenericPassword,
    },
];

/// The regex for a named assignment: an identifier that contains one of
/// `names`, an optional type annotation, an assignment-like operator, then a
/// quoted value (group `secret`) or a bare one (group `secret_bare`), or a
/// comma-separated quoted pair (group `secret_pair`). The part
/// of the identifier before the name is recovered in code, which keeps the
/// automaton small.
pub(super) fn assignment_pattern(names: &str, value: ValueShape) -> String {
    let ValueShape { quoted, bare, bare_chars } = value;
    // `name` group: the keyword plus the rest of the identifier.
    let name = format!(r"(?P<name>(?i:{names})[A-Za-z0-9_.-]{{0,30}})");
    // Closing quote of a JSON/YAML key, possibly escaped inside a JSON string.
    let key_quote = r#"(?:\\?["'`])?"#;
    // Type annotations: `: str =` (Python, TypeScript, Kotlin), ` string =` (Go).
    // A space before `=` is required, so `passwd: x9B=...` stays a value.
    let type_name = r"[A-Za-z_][A-Za-z0-9_.]{0,30}(?:\[[^\]\r\n]{0,30}\])?";
    let typed = format!(
        r"(?:[ \t]{{0,5}}:[ \t]{{0,5}}{type_name}[ \t]{{1,5}}:?=|[ \t]{{1,5}}{type_name}[ \t]{{1,5}}:?=)"
    );
    let operator = r"(?:={1,3}|:{1,3}=|:|=>|\?=|\.=|\|\|=)";
    let quoted_value = format!(r#"\\?["'`](?P<secret>{quoted})\\?["'`]"#);
    // A bare value followed by `(` or `[` is code (`self.token.clone()`).
    let bare_value = format!(r"(?P<secret_bare>{bare})(?:[^(\[{bare_chars}]|\z)");
    // `setProperty("API_TOKEN", "...")`: a comma after a quoted name, then a
    // quoted value. The `comma` group lets the scanner demand an
    // environment-variable-like name, since string lists look the same.
    let comma_pair =
        format!(r#"\\?["'`][ \t]{{0,5}}(?P<comma>,)[ \t]{{0,5}}\\?["'`](?P<secret_pair>{quoted})\\?["'`]"#);
    format!(
        r"{name}(?:(?:{typed}|{key_quote}[ \t]{{0,5}}{operator})[ \t]{{0,5}}(?:{quoted_value}|{bare_value})|{comma_pair})"
    )
}
