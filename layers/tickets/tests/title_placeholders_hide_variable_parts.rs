//! Ticket titles: whatever numbers, hex ids, UUIDs, IPs, e-mail addresses and timestamps a
//! message carries, its title is the same text with placeholders; and normalizing never
//! panics on any input.

use proptest::prelude::*;
use taskwire_tickets::title::normalize;

fn uuid() -> impl Strategy<Value = String> {
    any::<u128>().prop_map(|v| {
        let h = format!("{v:032x}");
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    })
}

fn ipv4() -> impl Strategy<Value = String> {
    (any::<[u8; 4]>(), proptest::option::of(1u16..)).prop_map(|(a, port)| {
        let ip = format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]);
        match port {
            Some(p) => format!("{ip}:{p}"),
            None => ip,
        }
    })
}

fn ipv6() -> impl Strategy<Value = String> {
    (any::<[u16; 8]>(), 0usize..8, any::<bool>()).prop_map(|(g, cut, compress)| {
        let parts: Vec<String> = g.iter().map(|x| format!("{x:x}")).collect();
        if compress {
            format!("{}::{}", parts[..cut].join(":"), parts[cut + 1..].join(":"))
        } else {
            parts.join(":")
        }
    })
}

fn email() -> impl Strategy<Value = String> {
    ("[a-z0-9][a-z0-9._+-]{0,12}", "[a-z0-9]{1,10}", "[a-z]{2,6}")
        .prop_map(|(local, domain, tld)| format!("{local}@{domain}.{tld}"))
}

fn hex() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|v| format!("0x{v:x}")),
        any::<u128>()
            .prop_filter("a letter and a digit", |v| {
                let h = format!("{v:032x}");
                h.bytes().any(|b| b.is_ascii_digit()) && h.bytes().any(|b| b.is_ascii_alphabetic())
            })
            .prop_map(|v| format!("{v:032x}")),
    ]
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|v| v.to_string()),
        (0u32..100_000, 0u32..1000).prop_map(|(a, b)| format!("{a}.{b}")),
    ]
}

fn timestamp() -> impl Strategy<Value = String> {
    (
        1970u32..2100,
        1u32..13,
        1u32..29,
        0u32..24,
        0u32..60,
        0u32..60,
        0u32..1_000_000,
        0usize..4,
    )
        .prop_map(|(y, mo, d, h, mi, s, us, style)| match style {
            0 => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}Z"),
            1 => format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}+02:00"),
            2 => format!("{y:04}-{mo:02}-{d:02}"),
            _ => format!("{h:02}:{mi:02}:{s:02}"),
        })
}

/// A variable part and its placeholder.
fn variable() -> impl Strategy<Value = (String, &'static str)> {
    prop_oneof![
        uuid().prop_map(|v| (v, "<uuid>")),
        ipv4().prop_map(|v| (v, "<ip>")),
        ipv6().prop_map(|v| (v, "<ip>")),
        email().prop_map(|v| (v, "<email>")),
        hex().prop_map(|v| (v, "<hex>")),
        number().prop_map(|v| (v, "<num>")),
        timestamp().prop_map(|v| (v, "<ts>")),
    ]
}

/// Words without digits, so only the variables change.
fn words() -> impl Strategy<Value = String> {
    "[a-z]{1,8}( [a-z]{1,8}){0,3}"
}

proptest! {
    #[test]
    fn variable_parts_become_placeholders(
        parts in proptest::collection::vec((words(), variable()), 1..5),
        tail in words(),
    ) {
        let mut message = String::new();
        let mut want = String::new();
        for (w, (v, ph)) in &parts {
            message.push_str(&format!("{w} {v} "));
            want.push_str(&format!("{w} {ph} "));
        }
        message.push_str(&tail);
        want.push_str(&tail);
        prop_assert_eq!(normalize(&message), want);
    }

    #[test]
    fn two_messages_from_one_template_share_a_title(
        template in proptest::collection::vec(words(), 2..4),
        kinds in proptest::collection::vec(0usize..7, 1..3),
        seed_a in any::<u64>(),
        seed_b in any::<u64>(),
    ) {
        // Render the same template with two different values of the same kinds.
        let render = |seed: u64| {
            let mut out = String::new();
            for (i, w) in template.iter().enumerate() {
                out.push_str(w);
                out.push(' ');
                if let Some(k) = kinds.get(i) {
                    let s = seed.wrapping_add(i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                    out.push_str(&match k {
                        0 => format!("{}", s % 100_000),
                        1 => format!("0x{s:x}"),
                        2 => format!("{}.{}.{}.{}", s & 255, (s >> 8) & 255, (s >> 16) & 255, (s >> 24) & 255),
                        3 => format!("user{}@example.com", s % 1000),
                        4 => format!("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", s as u32, (s >> 32) as u16, (s >> 48) as u16, s as u16, s & 0xffff_ffff_ffff),
                        5 => format!("2024-01-{:02}T10:{:02}:00Z", 1 + s % 28, s % 60),
                        _ => format!("{}.{}", s % 1000, s % 7),
                    });
                    out.push(' ');
                }
            }
            out
        };
        prop_assert_eq!(normalize(&render(seed_a)), normalize(&render(seed_b)));
    }

    #[test]
    fn never_panics_and_stays_bounded(s in any::<String>()) {
        let t = normalize(&s);
        prop_assert!(t.chars().count() <= taskwire_tickets::title::MAX_TITLE_CHARS + 1);
    }

    #[test]
    fn never_panics_on_tricky_ascii(s in "[0-9a-fA-F:.@x\\- TZ+]{0,60}") {
        let _ = normalize(&s);
    }
}
