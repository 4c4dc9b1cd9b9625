//! `client.address` and `client.port` of a request task: opt-in, from the connection's peer or
//! a trusted proxy's `X-Forwarded-For`.

use std::net::{IpAddr, SocketAddr};

/// Where the opt-in `client.address` (and `client.port`) of a request task come from.
///
/// ```
/// use taskwire_core::http::ClientAddress;
///
/// // Behind a proxy you trust to set X-Forwarded-For:
/// let layer = taskwire_core::http::ServerConfig::default()
///     .with_client_address(ClientAddress::ForwardedFor);
/// # let _ = layer;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAddress {
    /// Not recorded (the default: an address is personal data in many jurisdictions).
    #[default]
    Off,
    /// The peer of the connection, address and port. taskwire-tower finds it in axum's
    /// `ConnectInfo<SocketAddr>` (feature `axum`, with `into_make_service_with_connect_info`)
    /// or a [`SocketAddr`] request extension; taskwire-actix asks actix for the peer address.
    Peer,
    /// The first `X-Forwarded-For` entry that is an IP address (see [`forwarded_for`]), else
    /// the peer. Any client can send this header: choose it only behind a proxy that
    /// overwrites it.
    ForwardedFor,
}

impl ClientAddress {
    /// The client's address and port (when known) by this rule. `forwarded_for` gives the
    /// request's first `X-Forwarded-For` header, when it has one and it is text; `peer` the
    /// connection's peer, when known. Neither is called unless the rule needs it.
    ///
    /// ```
    /// use taskwire_core::http::ClientAddress;
    /// let peer = || Some("192.0.2.1:5000".parse().unwrap());
    /// let xff = || Some("203.0.113.7, 10.0.0.1");
    /// assert_eq!(ClientAddress::Off.resolve(xff, peer), None);
    /// assert_eq!(ClientAddress::Peer.resolve(xff, peer), Some(("192.0.2.1".parse().unwrap(), Some(5000))));
    /// assert_eq!(ClientAddress::ForwardedFor.resolve(xff, peer), Some(("203.0.113.7".parse().unwrap(), None)));
    /// assert_eq!(ClientAddress::ForwardedFor.resolve(|| Some("unknown"), peer), Some(("192.0.2.1".parse().unwrap(), Some(5000))));
    /// ```
    pub fn resolve<'a>(
        self,
        forwarded: impl FnOnce() -> Option<&'a str>,
        peer: impl FnOnce() -> Option<SocketAddr>,
    ) -> Option<(IpAddr, Option<u16>)> {
        let peer = || peer().map(|a| (a.ip(), Some(a.port())));
        match self {
            ClientAddress::Off => None,
            ClientAddress::Peer => peer(),
            ClientAddress::ForwardedFor => forwarded()
                .and_then(forwarded_for)
                .map(|ip| (ip, None))
                .or_else(peer),
        }
    }
}

/// The first entry of an `X-Forwarded-For` value, when it is an IP address (with or without a
/// port). Anything else is ignored: the value is the client's to choose.
///
/// ```
/// use taskwire_core::http::forwarded_for;
/// assert_eq!(forwarded_for("203.0.113.7, 10.0.0.1"), "203.0.113.7".parse().ok());
/// assert_eq!(forwarded_for("[2001:db8::1]:443"), "2001:db8::1".parse().ok());
/// assert_eq!(forwarded_for("<script>"), None);
/// ```
pub fn forwarded_for(value: &str) -> Option<IpAddr> {
    let first = value.split(',').next()?.trim();
    first
        .parse::<IpAddr>()
        .ok()
        .or_else(|| first.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn forwarded_for_takes_only_addresses() {
        assert_eq!(forwarded_for("203.0.113.7, 10.0.0.1"), ip("203.0.113.7"));
        assert_eq!(forwarded_for("[2001:db8::1]:443"), ip("2001:db8::1"));
        assert_eq!(forwarded_for("10.0.0.1:8080"), ip("10.0.0.1"));
        assert_eq!(forwarded_for(" 10.0.0.2 ,x"), ip("10.0.0.2"));
        assert_eq!(forwarded_for("<script>"), None);
        assert_eq!(forwarded_for("unknown, 10.0.0.1"), None);
        assert_eq!(forwarded_for(""), None);
    }

    #[test]
    fn off_reads_nothing() {
        let resolved = ClientAddress::Off.resolve(
            || unreachable!("Off reads no header"),
            || unreachable!("Off reads no peer"),
        );
        assert_eq!(resolved, None);
        assert_eq!(ClientAddress::ForwardedFor.resolve(|| None, || None), None);
    }

    proptest! {
        /// Whatever the header says, parsing it never panics, and what it accepts is the
        /// first entry's address.
        #[test]
        fn forwarded_for_never_panics(raw in "\\PC{0,60}") {
            if let Some(addr) = forwarded_for(&raw) {
                let first = raw.split(',').next().unwrap_or_default();
                prop_assert!(first.contains(&addr.to_string()) || first.contains(':'));
            }
        }
    }
}
