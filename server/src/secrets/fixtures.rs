//! Test fixtures, generated at run time.
//!
//! No key-shaped string is written in this file: every credential is built
//! from a vendor prefix and a body drawn from a seeded PRNG, so the repository
//! itself never trips a secret scanner (ours or anyone's), while the tests
//! stay deterministic.

use super::default_stopwords;

pub const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub const URL_SAFE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
pub const BASE64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
pub const BASE32_UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub const UPPER_ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub const LOWER_ALNUM: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
pub const HEX: &str = "0123456789abcdef";
pub const DIGITS: &str = "0123456789";
pub const ACGT: &str = "ACGT";
/// Characters a bare (unquoted) assignment value may hold.
pub const PASSWORD_CHARS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-+=~";

/// xorshift64* : small, fast, deterministic; good enough for fixtures.
pub struct XorShift64 {
    state: u64,
}

impl XorShift64 {
    pub fn new(seed: u64) -> Self {
        // splitmix64 once, so that nearby seeds give unrelated streams.
        let mut mixed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^= mixed >> 31;
        XorShift64 { state: if mixed == 0 { 0x2545_F491_4F6C_DD1D } else { mixed } }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-enough integer in `0..bound` (`bound > 0`).
    pub fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }

    /// `len` characters drawn from `alphabet` (ASCII).
    pub fn string(&mut self, alphabet: &str, len: usize) -> String {
        let symbols = alphabet.as_bytes();
        (0..len).map(|_| char::from(symbols[self.below(symbols.len())])).collect()
    }

    /// Like [`string`](Self::string), but redrawn until it contains a digit
    /// (when the alphabet has digits) and no stopword, as a real key would.
    pub fn plausible(&mut self, alphabet: &str, len: usize) -> String {
        let needs_digit = alphabet.bytes().any(|byte| byte.is_ascii_digit()) && len >= 8;
        loop {
            let candidate = self.string(alphabet, len);
            let lower = candidate.to_ascii_lowercase();
            let has_stopword = default_stopwords().iter().any(|word| lower.contains(word.as_str()));
            let has_digit = candidate.bytes().any(|byte| byte.is_ascii_digit());
            if !has_stopword && (has_digit || !needs_digit) {
                return candidate;
            }
        }
    }

    pub fn uuid(&mut self) -> String {
        format!(
            "{}-{}-4{}-a{}-{}",
            self.string(HEX, 8),
            self.string(HEX, 4),
            self.string(HEX, 3),
            self.string(HEX, 3),
            self.string(HEX, 12)
        )
    }
}

/// A credential the scanner must report, and the rule that should report it.
#[derive(Debug, Clone)]
pub struct GeneratedSecret {
    pub rule_id: &'static str,
    pub secret: String,
}

/// Which kinds of context a secret may be embedded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Recognisable by shape: any context, including bare text.
    Anywhere,
    /// A generic value: only meaningful after a credential-like name.
    NamedAssignment,
    /// A multi-line block that must keep its own lines.
    Block,
}

/// Joins a vendor prefix and a body. Tests build every key this way.
fn key(prefix: &str, body: &str) -> String {
    format!("{prefix}{body}")
}

/// One fresh credential for every rule (several shapes for some).
pub fn generate_secrets(rng: &mut XorShift64) -> Vec<(GeneratedSecret, Placement)> {
    let openai_marker = ["T3Blb", "kFJ"].concat();
    let mut out = Vec::new();
    let mut push = |rule_id: &'static str, secret: String, placement: Placement| {
        out.push((GeneratedSecret { rule_id, secret }, placement));
    };
    use Placement::{Anywhere, Block, NamedAssignment};

    let long_or_short = |rng: &mut XorShift64| if rng.below(2) == 0 { 74 } else { 58 };
    for (rule_id, prefix) in [
        ("openai-project-key", "sk-proj-"),
        ("openai-service-account-key", "sk-svcacct-"),
        ("openai-admin-key", "sk-admin-"),
    ] {
        let half = long_or_short(rng);
        let body =
            format!("{}{}{}", rng.plausible(URL_SAFE, half), openai_marker, rng.plausible(URL_SAFE, half));
        push(rule_id, key(prefix, &body), Anywhere);
    }
    let legacy_body = format!("{}{}{}", rng.plausible(ALNUM, 20), openai_marker, rng.plausible(ALNUM, 20));
    push("openai-api-key", key("sk-", &legacy_body), Anywhere);

    let anthropic_body = |rng: &mut XorShift64| format!("{}AA", rng.plausible(URL_SAFE, 93));
    let body = anthropic_body(rng);
    push("anthropic-api-key", key("sk-ant-api03-", &body), Anywhere);
    let body = anthropic_body(rng);
    push("anthropic-admin-key", key("sk-ant-admin01-", &body), Anywhere);
    let oauth_prefix = *rng.pick(&["sk-ant-oat01-", "sk-ant-ort01-"]);
    let body = rng.plausible(URL_SAFE, 95);
    push("anthropic-oauth-token", key(oauth_prefix, &body), Anywhere);

    let aws_prefix = *rng.pick(&["AKIA", "ASIA", "ABIA", "ACCA"]);
    let body = rng.plausible(BASE32_UPPER, 16);
    push("aws-access-key-id", key(aws_prefix, &body), Anywhere);
    // The AWS secret key is only recognisable next to its name.
    push("aws-secret-access-key", rng.plausible(BASE64, 40), NamedAssignment);

    for (rule_id, prefix) in
        [("github-pat", "ghp_"), ("github-oauth-token", "gho_"), ("github-refresh-token", "ghr_")]
    {
        let body = rng.plausible(ALNUM, 36);
        push(rule_id, key(prefix, &body), Anywhere);
    }
    let app_prefix = *rng.pick(&["ghu_", "ghs_"]);
    let body = rng.plausible(ALNUM, 36);
    push("github-app-token", key(app_prefix, &body), Anywhere);
    let body = format!("{}_{}", rng.plausible(ALNUM, 22), rng.plausible(ALNUM, 59));
    push("github-fine-grained-pat", key("github_pat_", &body), Anywhere);

    let body = rng.plausible(ALNUM, 20);
    push("gitlab-pat", key("glpat-", &body), Anywhere);
    let body = format!("{}.{}", rng.plausible(URL_SAFE, 27), rng.plausible(LOWER_ALNUM, 9));
    push("gitlab-pat", key("glpat-", &body), Anywhere);
    let gitlab_other = match rng.below(8) {
        0 => key("gldt-", &rng.plausible(ALNUM, 20)),
        1 => key("glrt-", &rng.plausible(ALNUM, 20)),
        2 => key("glptt-", &rng.plausible(HEX, 40)),
        3 => key("glft-", &rng.plausible(ALNUM, 20)),
        4 => key("glimt-", &rng.plausible(ALNUM, 25)),
        5 => key("glagent-", &rng.plausible(ALNUM, 50)),
        6 => format!("glcbt-{}_{}", rng.plausible(ALNUM, 5), rng.plausible(ALNUM, 20)),
        _ => key("GR1348941", &rng.plausible(ALNUM, 20)),
    };
    push("gitlab-token", gitlab_other, Anywhere);

    let bot = format!("{}-{}-{}", rng.string(DIGITS, 13), rng.string(DIGITS, 12), rng.plausible(ALNUM, 24));
    push("slack-bot-token", key("xoxb-", &bot), Anywhere);
    let legacy_bot = format!("{}-{}", rng.string(DIGITS, 12), rng.plausible(ALNUM, 24));
    push("slack-bot-token", key("xoxb-", &legacy_bot), Anywhere);
    let user = format!(
        "{}-{}-{}-{}",
        rng.string(DIGITS, 12),
        rng.string(DIGITS, 13),
        rng.string(DIGITS, 13),
        rng.plausible(HEX, 32)
    );
    push("slack-user-token", key("xoxp-", &user), Anywhere);
    let app =
        format!("1-A{}-{}-{}", rng.string(UPPER_ALNUM, 10), rng.string(DIGITS, 13), rng.plausible(HEX, 64));
    push("slack-app-token", key("xapp-", &app), Anywhere);
    let legacy = if rng.below(2) == 0 {
        format!("2-{}", rng.plausible(ALNUM, 24))
    } else {
        format!(
            "{}-{}-{}-{}",
            rng.string(DIGITS, 10),
            rng.string(DIGITS, 10),
            rng.string(DIGITS, 10),
            rng.plausible(HEX, 10)
        )
    };
    let legacy_prefix = if legacy.starts_with("2-") {
        *rng.pick(&["xoxa-", "xoxr-"])
    } else {
        *rng.pick(&["xoxs-", "xoxo-"])
    };
    push("slack-legacy-token", key(legacy_prefix, &legacy), Anywhere);
    let hook_path = format!(
        "T{}/B{}/{}",
        rng.plausible(UPPER_ALNUM, 8),
        rng.plausible(UPPER_ALNUM, 10),
        rng.plausible(ALNUM, 24)
    );
    push("slack-webhook-url", key("https://hooks.slack.com/services/", &hook_path), Anywhere);

    let stripe_prefix = *rng.pick(&["sk_live_", "sk_test_", "rk_live_", "rk_test_", "sk_prod_"]);
    let stripe_len = *rng.pick(&[24, 99]);
    let body = rng.plausible(ALNUM, stripe_len);
    push("stripe-secret-key", key(stripe_prefix, &body), Anywhere);

    let body = rng.plausible(URL_SAFE, 35);
    push("gcp-api-key", key("AIza", &body), Anywhere);

    push("private-key", private_key_block(rng, "\n"), Block);
    push("private-key", private_key_block(rng, "\\n"), Anywhere);

    let generic_value = match rng.below(5) {
        0 => rng.plausible(ALNUM, 32),
        1 => rng.plausible(HEX, 40),
        2 => rng.plausible(URL_SAFE, 43),
        3 => rng.plausible(ALNUM, 60),
        _ => rng.plausible(HEX, 64),
    };
    push("generic-api-key", generic_value, NamedAssignment);
    let password_len = 12 + rng.below(9);
    push("generic-password", rng.plausible(PASSWORD_CHARS, password_len), NamedAssignment);
    out
}

/// A private key block, lines joined with `newline` (a real newline, or the
/// two characters `\n` as inside a JSON string): PKCS#1/PKCS#8/SEC1/OpenSSH
/// PEM, legacy encrypted PEM with headers, or PGP armour with a checksum line.
pub fn private_key_block(rng: &mut XorShift64, newline: &str) -> String {
    let private_key = ["PRIVATE", " KEY"].concat();
    let (label, headers, trailer): (String, Vec<String>, Option<String>) = match rng.below(7) {
        0 => ("RSA ".into(), Vec::new(), None),
        1 => ("EC ".into(), Vec::new(), None),
        2 => ("OPENSSH ".into(), Vec::new(), None),
        3 => (String::new(), Vec::new(), None),
        4 => ("ENCRYPTED ".into(), Vec::new(), None),
        5 => (
            "RSA ".into(),
            vec![
                "Proc-Type: 4,ENCRYPTED".into(),
                format!("DEK-Info: AES-128-CBC,{}", rng.string(HEX, 32).to_ascii_uppercase()),
                String::new(),
            ],
            None,
        ),
        _ => (
            "PGP ".into(),
            vec!["Version: Keybase OpenPGP v2.1.0".into(), String::new()],
            Some(format!("={}", rng.string(BASE64, 4))),
        ),
    };
    let suffix = if label == "PGP " { " BLOCK" } else { "" };
    let mut lines = vec![format!("-----BEGIN {label}{private_key}{suffix}-----")];
    lines.extend(headers);
    for _ in 0..(6 + rng.below(10)) {
        lines.push(rng.plausible(BASE64, 64));
    }
    lines.push(format!("{}==", rng.plausible(BASE64, 22)));
    lines.extend(trailer);
    lines.push(format!("-----END {label}{private_key}{suffix}-----"));
    lines.join(newline)
}

/// Identifiers used to name a secret in the generated contexts.
const OWNERS: &[&str] = &["service", "prod", "deploy", "ci", "backend", "billing"];

/// A generated text and the secret it contains.
#[derive(Debug, Clone)]
pub struct PositiveCase {
    pub text: String,
    pub expected: GeneratedSecret,
}

/// Embeds `secret` in contexts modelled on real files and logs: config formats,
/// source code in several languages, shell, HTTP logs, JSON with escaped
/// newlines. Generic values only go where a credential name precedes them.
pub fn positive_cases(rng: &mut XorShift64) -> Vec<PositiveCase> {
    let mut cases = Vec::new();
    for (expected, placement) in generate_secrets(rng) {
        let owner = *rng.pick(OWNERS);
        let owner_upper = owner.to_ascii_uppercase();
        let name_word = if expected.rule_id == "generic-password" {
            *rng.pick(&["Password", "Passwd", "Pwd", "Passphrase"])
        } else if expected.rule_id == "aws-secret-access-key" {
            *rng.pick(&["SecretAccessKey", "_secret_access_key", "SecretKey"])
        } else {
            *rng.pick(&["Token", "Secret", "ApiKey", "Credentials", "AccessToken"])
        };
        let snake_word = snake_case(name_word);
        let aws_prefix = if expected.rule_id == "aws-secret-access-key" { "aws" } else { owner };
        let name_camel = format!("{aws_prefix}{name_word}");
        let name_snake = format!("{aws_prefix}_{}", snake_word.trim_start_matches('_'));
        let name_upper = name_snake.to_ascii_uppercase();
        let s = expected.secret.as_str();

        let mut named = vec![
            format!("{name_camel}=\"{s}\""),
            format!("{name_camel} = \"{s}\""),
            format!("{name_camel}={s}"),
            format!("{name_camel} = {s}"),
            format!("{{\n    \"{name_snake}\": \"{s}\"\n}}"),
            format!("{{\"config.ini\": \"{name_upper}={s}\\nBACKUP_ENABLED=true\"}}"),
            format!("{name_snake}: {s}"),
            format!("{name_snake}: '{s}'"),
            format!("{name_snake}: \"{s}\""),
            format!("string {name_camel} = \"{s}\";"),
            format!("var {name_camel} string = \"{s}\""),
            format!("{name_camel} := \"{s}\""),
            format!("{name_camel} := `{s}`"),
            format!("String {name_camel} = \"{s}\";"),
            format!("${name_camel} .= \"{s}\""),
            format!("{name_camel} = '{s}'"),
            format!("{name_snake}: str = \"{s}\""),
            format!("System.setProperty(\"{name_upper}\", \"{s}\")"),
            format!("  \"{name_camel}\" => \"{s}\""),
            format!("{name_upper} ?= \"{s}\""),
            format!("{name_upper} := \"{s}\""),
            format!("export {name_upper}={s}"),
            format!(
                "2025-03-14T09:26:53Z DEBUG dispatch agent=codex env={{\"{name_upper}\": \"{s}\", \"CI\": \"true\"}} exit=0"
            ),
            format!("{{\\\"{name_snake}\\\": \\\"{s}\\\", \\\"retries\\\": 2}}"),
        ];
        if placement == Placement::NamedAssignment && expected.rule_id == "generic-password" {
            named.push(format!("psql \"postgresql://app@db:5432/app\" --{snake_word}='{s}'"));
        }
        let anywhere = [
            s.to_string(),
            format!("see `{s}` above"),
            format!("curl -H \"Authorization: Bearer {s}\" https://api.vendor.test/v1/models"),
            format!("https://api.vendor.test/v1/items?key={s}&page=2"),
            format!("<{owner}Token>\n    {s}\n</{owner}Token>"),
            format!("[agent-run 42] using credential {s} for {owner_upper}"),
        ];

        let texts: Vec<String> = match placement {
            Placement::Anywhere => named.into_iter().chain(anywhere).collect(),
            Placement::NamedAssignment => named,
            Placement::Block => {
                vec![s.to_string(), format!("# deploy key\n{s}\n"), format!("key: |\n{}\n", indent(s, "  "))]
            }
        };
        for text in texts {
            cases.push(PositiveCase { text, expected: expected.clone() });
        }
    }
    cases
}

fn snake_case(camel: &str) -> String {
    let mut out = String::new();
    for (index, ch) in camel.chars().enumerate() {
        if ch.is_ascii_uppercase() && index > 0 && !out.ends_with('_') {
            out.push('_');
        }
        out.push(ch.to_ascii_lowercase());
    }
    out
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines().map(|line| format!("{prefix}{line}")).collect::<Vec<_>>().join("\n")
}

/// Texts that must produce no finding, modelled on the false positives secret
/// scanners are known for: placeholders, low-entropy and truncated keys,
/// template variables, documentation, UUIDs, hashes in lock files, names that
/// merely mention a key, and lines carrying the inline-allow marker.
pub fn negative_cases(rng: &mut XorShift64) -> Vec<String> {
    let x = |n: usize| "x".repeat(n);
    let upper_x = |n: usize| "X".repeat(n);
    let uuid = rng.uuid();
    let uuid2 = rng.uuid();
    let hex40 = rng.string(HEX, 40);
    let hex64 = rng.string(HEX, 64);
    let hex32 = rng.string(HEX, 32);
    let b64_sha512 = format!("{}==", rng.string(BASE64, 86));
    let b64_43 = rng.string(ALNUM, 43);
    let random30 = rng.plausible(ALNUM, 30);
    let dna: String = (0..60)
        .map(|_| {
            let len = 4 + rng.below(30);
            rng.string(ACGT, len)
        })
        .collect::<Vec<_>>()
        .join("-");
    let aws_doc_id = ["AKIA", "IOSFODNN7", "EXAMPLE"].concat();
    let aws_doc_secret = ["wJalrXUtnFEMI/K7MDENG/", "bPxRfiCY", "EXAMPLEKEY"].concat();
    let pem_label = ["PRIVATE", " KEY"].concat();
    let short_anthropic_body = rng.plausible(URL_SAFE, 60);

    let mut cases = vec![
        // OpenAI
        format!("OPENAI_API_KEY=sk-{}", x(24)),
        format!("openai_key = \"sk-proj-{}\"", x(64)),
        "export OPENAI_API_KEY=\"sk-proj-...\"".to_string(),
        "OPENAI_API_KEY=sk-proj-YOUR_API_KEY_HERE".to_string(),
        format!("client = OpenAI(api_key=\"sk-proj-{}\")", "abc123".repeat(10)),
        "Keys look like `sk-proj-` followed by a long random string.".to_string(),
        format!("nonMatching := \"task_test_{}\"", rng.plausible(ALNUM, 30)),
        // Anthropic
        format!("a truncated sk-ant-api03-{short_anthropic_body}AA is too short"),
        "export ANTHROPIC_API_KEY=\"sk-ant-api03-...\"".to_string(),
        "anthropic_token = \"sk-ant-oat01-tooShort\"".to_string(),
        format!("sk-ant-api03-{}AA", upper_x(93)),
        // AWS
        format!("key = AKIA{}", upper_x(16)),
        format!("aws_access_key: {aws_doc_id}"),
        format!("AWS_ACCESS_KEY_ID={aws_doc_id}"),
        format!("aws_secret_access_key = {aws_doc_secret}"),
        format!("aws_secret_access_key = {}", x(40)),
        "msgstr \"Näytä asiakirjamallikansio.\"".to_string(),
        ["TODAYINASIA", "ASACKOFRICEFELLOVER"].concat(),
        dna,
        // GitHub
        format!("ghp_{}", x(36)),
        format!("GITHUB_TOKEN=gho_{}", x(36)),
        format!("ghu_{}", x(36)),
        format!("ghs_{}", x(36)),
        format!("ghr_{}", x(36)),
        format!("github_pat_{}_{}", x(22), x(59)),
        "token: ${{ secrets.GITHUB_TOKEN }}".to_string(),
        "GH_TOKEN: ${{ github.token }}".to_string(),
        // GitLab
        format!("glpat-{}-{}", upper_x(11), upper_x(8)),
        format!("glpat-{}-{}.{}", x(8), x(18), x(9)),
        format!("glptt-{}", x(40)),
        ["GR1348941", &"123".repeat(6), "12"].concat(),
        format!("GR1348941{}", upper_x(20)),
        // Slack
        format!("xoxb-{}-{}-{}", x(9), x(10), x(12)),
        "xoxb-xxx".to_string(),
        "xoxb-12345-abcd234".to_string(),
        "xoxb-xoxb-my-bot-token".to_string(),
        "xoxb-Slack_BOT_TOKEN".to_string(),
        "xoxb-abcdef-abcdef".to_string(),
        "\"token1\": \"xoxp-1234567890\"".to_string(),
        format!(
            "\"token2\": \"xoxp-{}-{}-{}-{}\"",
            upper_x(10),
            upper_x(10),
            upper_x(11),
            upper_x(32)
        ),
        format!("\"user\": \"xoxp-1234-1234-1234-{}\"", rng.string(HEX, 32)),
        format!(
            "\"token4\": \"xoxp-{}-{}-{}-{}\"",
            rng.string(DIGITS, 12),
            rng.string(DIGITS, 12),
            rng.string(DIGITS, 12),
            "#".repeat(20)
        ),
        "https://github.com/xoxa-nyc/xoxa-nyc.github.io/blob/master/README.md".to_string(),
        "https://indieweb.org/images/3/35/2018-250-xoxo-indieweb-1.jpg".to_string(),
        format!(
            "SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T{}/B{}/{}",
            "0".repeat(8),
            "0".repeat(8),
            upper_x(24)
        ),
        "Post to https://hooks.slack.com/services/... to notify the channel.".to_string(),
        // Stripe
        format!("stripe.api_key = \"sk_test_{}\"", x(30)),
        format!("STRIPE_SECRET_KEY=sk_live_{}", "0".repeat(24)),
        "STRIPE_SECRET_KEY=sk_test_YOUR_SECRET_KEY".to_string(),
        format!("publishableKey: \"pk_live_{}\"", rng.plausible(ALNUM, 24)),
        // Google
        format!("apiKey: \"AIza{}\"", "a".repeat(35)),
        ["AIZASYCO2CXRMC9ELSK", "LHLHRMBSWDEVEDZTLO2O"].concat(),
        format!("{}AIza{}", rng.plausible(ALNUM, 20), rng.plausible(ALNUM, 35)),
        format!("AIza{}", rng.plausible(ALNUM, 45)),
        // Private keys
        format!("-----BEGIN {pem_label}-----\n...\n-----END {pem_label}-----"),
        format!("-----BEGIN RSA {pem_label}-----\n<your key here>\n-----END RSA {pem_label}-----"),
        format!(
            "-----BEGIN {pem_label}-----\n{}\n{}\n-----END {pem_label}-----",
            "A".repeat(64),
            "A".repeat(64)
        ),
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n{}\n-----END PUBLIC KEY-----",
            rng.string(BASE64, 64),
            rng.string(BASE64, 64)
        ),
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n{}\n-----END CERTIFICATE-----",
            rng.string(BASE64, 64),
            rng.string(BASE64, 64)
        ),
        format!("The file must start with -----BEGIN OPENSSH {pem_label}----- and nothing else."),
        // Generic names that do not hold a credential.
        format!("\"accessor\":\"{}\",", rng.plausible(ALNUM, 16)),
        format!("report_access_id: {uuid}"),
        "this.ultraPictureBox1.Name = \"ultraPictureBox1\";".to_string(),
        "apiUrl=apigee.corpint.com".to_string(),
        "author = \"james.fake@ymail.com\",".to_string(),
        format!(
            "withCredentials([usernamePassword(credentialsId: '{uuid}', usernameVariable: 'USERNAME', passwordVariable: 'PASSWORD')]) {{"
        ),
        format!("credentialsId: '{uuid2}'"),
        format!("  \"credentialId\": \"{}\",", rng.plausible(ALNUM, 22)),
        "environment {\n\tCREDENTIALS_ID = \"K8S_CRED\"\n}".to_string(),
        "dev.credentials.url=dev-lb1.api.f4ke.com:5215".to_string(),
        "keyword: \"Befaehigung_P2\"".to_string(),
        format!("public_key = \"{b64_43}\""),
        format!("publicToken = \"{b64_43}\""),
        "pub const X509_pubkey_st = struct_X509_pubkey_st;".to_string(),
        format!("primaryKey={random30}"),
        format!("foreignKey={random30}"),
        format!("key_down_event={random30}"),
        format!("issuerKeyHash={random30}"),
        "<entry key=\"jetbrains.mps.v8_elimination\" value=\"executed\" />".to_string(),
        "IceSSL.KeyFile=s_rsa1024_priv.pem".to_string(),
        "\"bucket_key\": \"SalesResults-1.2\"".to_string(),
        "schemaKey = 'DOC_Vector_5_32'".to_string(),
        "sequenceKey = \"18\"".to_string(),
        "app.keystore.file=env/cert.p12".to_string(),
        "-DKEYTAB_FILE=/tmp/app.keytab".to_string(),
        "\tdoc.Security.KeySize = PdfEncryptionKeySize.Key128Bit;".to_string(),
        "                                \"key_name\": \"prod5zyxlmy-cmk\",".to_string(),
        format!("                                \"kms_key_id\": \"{uuid}\","),
        "\t\"key_vault_name\": \"web21prqodx24021\",".to_string(),
        "const validKeyChars = \"0123456789abcdefghijklmnopqrstuvwxyz_-.\"".to_string(),
        format!("const keyStr = \"{ALNUM}\""),
        "key_length = XSalsa20.key_length".to_string(),
        "KeyPair = X25519.KeyPair".to_string(),
        "BlindKeySignatures = Ed25519.BlindKeySignatures".to_string(),
        "timezone_mapping = {\n    \"Turkey Standard Time\": \"Europe/Istanbul\",\n}".to_string(),
        "password combination.\n\nR5: Regulatory--21".to_string(),
        "PuttyPassword=0".to_string(),
        "LLM_SECRET_NAME = \"NEXUS-GPT4-API-KEY\"".to_string(),
        format!("  <UserSecretsId>{uuid}</UserSecretsId>"),
        "secret_length = X25519.secret_length".to_string(),
        "secretSize must be >= XXH3_SECRET_SIZE_MIN".to_string(),
        "#RUN --mount=type=secret,id=jfrog_secret \\\n#    JFROG_SECRET = $(cat /run/secrets/jfrog_secret) && \\".to_string(),
        "    access_token_url='https://github.com/login/oauth/access_token',".to_string(),
        format!("csrf-token={}", b64_sha512),
        "notes            = \"Maven - io.jsonwebtoken:jjwt-jackson-0.11.2\"".to_string(),
        format!("clientId = \"{uuid}\""),
        "GITHUB_API_KEY=\nDYNATRACE_API_KEY=".to_string(),
        "snowflake.password=\njdbc.snowflake.url=".to_string(),
        "import { chain_Anvil1_Key, chain_Anvil2_Key } from '../blockchain-tests/pallets/supported-chains/consts';".to_string(),
        format!("SRCREV_moby = \"{hex40}\""),
        format!("LIC_FILES_CHKSUM = \"file://${{WORKDIR}}/license.html;md5={hex32}\""),
        // Code that reads a secret rather than holding one.
        "max_tokens = 4096".to_string(),
        "\"max_tokens\": 1024,".to_string(),
        "tokenizer = AutoTokenizer.from_pretrained(\"bert-base-uncased\")".to_string(),
        "OPENAI_API_KEY = os.environ[\"OPENAI_API_KEY\"]".to_string(),
        "api_key = os.getenv(\"OPENAI_API_KEY\")".to_string(),
        "const apiKey = process.env.STRIPE_SECRET_KEY;".to_string(),
        "let token = std::env::var(\"GITHUB_TOKEN\").context(\"GITHUB_TOKEN is not set\")?;".to_string(),
        "password: \"{{ vault_db_password }}\"".to_string(),
        "DB_PASSWORD=${DB_PASSWORD}".to_string(),
        "api_key: \"<YOUR_API_KEY>\"".to_string(),
        "apiKey: {{ .Values.apiKey }}".to_string(),
        "set API_KEY=%API_KEY%".to_string(),
        "password = \"********\"".to_string(),
        "\"password\": \"hunter2\"".to_string(),
        "password: changeme".to_string(),
        "password = input(\"Password: \")".to_string(),
        "token_type: \"Bearer\"".to_string(),
        "\"expires_at\": \"2024-01-01T00:00:00Z\"".to_string(),
        format!("password_hash = \"$argon2id$v=19$m=65536,t=3,p=4${}${}\"", rng.string(BASE64, 22), rng.string(BASE64, 43)),
        "api_key_header = \"X-API-Key\"".to_string(),
        "private_key_path = \"~/.ssh/id_ed25519\"".to_string(),
        "secretName: app-decryption-secret".to_string(),
        "GITHUB_TOKEN_PERMISSIONS: read-all".to_string(),
        "token_count = 123456789012".to_string(),
        "\"keywords\": [\"secret\", \"scanner\", \"token\"],".to_string(),
        "const SECRET_LENGTH = 32;".to_string(),
        "Authorization: Bearer <token>".to_string(),
        "curl -H \"Authorization: Bearer $API_TOKEN\" https://api.vendor.test/v1".to_string(),
        format!("next_page_token = \"{}\"", rng.plausible(ALNUM, 40)),
        format!("\"cache_key\": \"user:{}:profile\"", rng.string(DIGITS, 8)),
        "Set the token in your environment; never paste the secret key into chat.".to_string(),
        "The API key is read from OPENAI_API_KEY; see docs/setup.md.".to_string(),
        // UUIDs, hashes and lock files.
        format!("\"request_id\": \"{}\"", rng.uuid()),
        format!("trace_id={}", rng.uuid()),
        format!("session_id: {}", rng.uuid()),
        format!("\"token_id\": \"{}\"", rng.uuid()),
        format!("commit {hex40}\nAuthor: Dev <dev@vendor.test>"),
        format!("Merge: {} {}", rng.string(HEX, 7), rng.string(HEX, 7)),
        format!("sha256sum: {hex64}  concord-x86_64.tar.gz"),
        format!("\"etag\": \"\\\"{hex32}\\\"\""),
        format!(
            "    \"node_modules/js-tokens\": {{\n      \"version\": \"4.0.0\",\n      \"resolved\": \"https://registry.npmjs.org/js-tokens/-/js-tokens-4.0.0.tgz\",\n      \"integrity\": \"sha512-{b64_sha512}\"\n    }},"
        ),
        format!(
            "js-tokens@^4.0.0:\n  version \"4.0.0\"\n  resolved \"https://registry.yarnpkg.com/js-tokens/-/js-tokens-4.0.0.tgz#{hex40}\"\n  integrity sha512-{b64_sha512}"
        ),
        "    \"@octokit/auth-token\": \"^4.0.0\",".to_string(),
        "    \"js-tokens\": \"^4.0.0-beta.12\",".to_string(),
        format!("[[package]]\nname = \"secret-service\"\nversion = \"3.0.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{hex64}\""),
        format!("{{file = \"tokenizers-0.15.0-cp311-cp311-manylinux_2_17_x86_64.whl\", hash = \"sha256:{hex64}\"}},"),
        format!("golang.org/x/oauth2 v0.15.0 h1:{}=", rng.string(BASE64, 43)),
        format!("\"hashes\": [\"sha256:{hex64}\"],"),
        format!("data:image/png;base64,{}", rng.string(BASE64, 200)),
    ];

    // The inline-allow marker hides even real-looking keys on its line.
    for (expected, placement) in generate_secrets(rng) {
        if placement == Placement::Block {
            continue;
        }
        cases.push(format!("TEST_FIXTURE_TOKEN = \"{}\"  # concord:allow-secret", expected.secret));
    }
    cases
}
