//! UTC timestamps in RFC 3339 (`2026-11-20T10:00:00Z`), as ops files store them.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Seconds since the epoch of an RFC 3339 timestamp with a `Z` or `±HH:MM` offset (fractional
/// seconds are dropped). Dates that do not exist (`2026-02-31`) are refused.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let text = text.trim();
    // RFC 3339 wants a full offset; jiff also reads `+02` and bracketed time zones.
    let offset = text.rfind(['Z', 'z', '+', '-'])?;
    let tail = &text[offset..];
    let full_offset = tail.len() == 6
        && tail.as_bytes()[3] == b':'
        && tail[1..3].parse::<u8>().is_ok_and(|h| h <= 23)
        && tail[4..6].parse::<u8>().is_ok_and(|m| m <= 59);
    if !(matches!(tail, "Z" | "z") || full_offset) || text.contains('[') {
        return None;
    }
    text.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

pub fn format_rfc3339(secs: i64) -> String {
    match jiff::Timestamp::from_second(secs) {
        Ok(t) => t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Err(_) => String::from("(out of range)"),
    }
}

/// "3d 4h", "25m", "40s": an age for people.
pub fn human_age(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86_400 => format!("{}h {}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d {}h", secs / 86_400, secs % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_offsets() {
        let t = parse_rfc3339("2026-11-20T10:00:00Z").unwrap();
        assert_eq!(format_rfc3339(t), "2026-11-20T10:00:00Z");
        assert_eq!(parse_rfc3339("2026-11-20T12:00:00+02:00"), Some(t));
        assert_eq!(parse_rfc3339("2026-11-20T10:00:00.123Z"), Some(t));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(format_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(
            parse_rfc3339("2024-02-29T00:00:00Z").map(format_rfc3339).as_deref(),
            Some("2024-02-29T00:00:00Z")
        );
        for bad in [
            "",
            "2026-11-20",
            "2026-13-01T00:00:00Z",
            "2026-11-20T10:00:00",
            "yesterday",
            "2026-02-31T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-+1-01T00:00:00Z",
            "2026-11-20T10:00:00+24:00",
            "2026-11-20T10:00:00+02:60",
            "2026-11-20T10:00:00+02",
            "2026-11-20T10:00:00Z[Europe/Paris]",
            "2026-11-20T10:00:00-00:00x",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        assert_eq!(human_age(90_000), "1d 1h");
    }
}
