//! Who is on the other end of a loopback connection: the uid owning the client's socket, read from the
//! kernel's socket tables (`/proc/net/tcp`, `/proc/net/tcp6`). The form API trusts unsigned loopback
//! callers only when they run as this server's own user, and sandboxed functions never do: in root mode
//! each instance has a uid of its own; in user-namespace mode they share the server's uid, so there the
//! exemption is off altogether (see [`loopback_trust_possible`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Whether an unsigned loopback caller can ever be told apart from a function: only when functions
/// do not run as this server's uid (sandbox in root mode) or are not sandboxed at all.
pub fn loopback_trust_possible(sandbox: &ferric_invoker::sandbox::Sandbox) -> bool {
    sandbox.mode() == ferric_invoker::sandbox::Mode::Off || sandbox.features().root
}

/// Whether the client socket `peer` (a loopback address) belongs to a process running as this server's
/// effective uid. False when it cannot be found.
pub fn is_own_user(peer: SocketAddr) -> bool {
    let own = own_uid();
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|table| {
        std::fs::read_to_string(table).is_ok_and(|text| owner_in(&text, peer).is_some_and(|uid| uid == own))
    })
}

fn own_uid() -> u32 {
    // /proc/self/status "Uid: real effective saved fs".
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(2)?.parse().ok()))
        .unwrap_or(u32::MAX)
}

/// The uid column of the row whose local address is `peer`.
fn owner_in(table: &str, peer: SocketAddr) -> Option<u32> {
    let want_ip = peer.ip().to_canonical();
    table.lines().skip(1).find_map(|line| {
        let mut fields = line.split_whitespace();
        let local = fields.nth(1)?;
        let uid = fields.nth(5)?;
        let (ip, port) = parse_address(local)?;
        (port == peer.port() && ip.to_canonical() == want_ip).then(|| uid.parse().ok()).flatten()
    })
}

/// `0100007F:1F90` (IPv4) or 32 hex digits (IPv6), each 32-bit word in host byte order, then the port.
fn parse_address(text: &str) -> Option<(IpAddr, u16)> {
    let (ip, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| u32::from_str_radix(ip.get(i * 8..i * 8 + 8)?, 16).ok();
    let ip = match ip.len() {
        8 => IpAddr::V4(Ipv4Addr::from(u32::from_str_radix(ip, 16).ok()?.to_ne_bytes())),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word(i)?.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some((ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
       0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0\n\
       1: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000 1900000003        0 2 1 0000000000000000 20 4 30 10 -1\n";
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
       0: 0000000000000000FFFF00000100007F:C350 0000000000000000FFFF00000100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 3 1 0 20 4 30 10 -1\n\
       1: 00000000000000000000000001000000:C351 00000000000000000000000001000000:1F90 01 00000000:00000000 00:00000000 00000000  1001        0 4 1 0 20 4 30 10 -1\n";

    #[test]
    fn finds_the_owner_of_a_client_socket() {
        assert_eq!(owner_in(TCP, "127.0.0.1:54321".parse().expect("addr")), Some(1_900_000_003));
        assert_eq!(owner_in(TCP, "127.0.0.1:8080".parse().expect("addr")), Some(0));
        assert_eq!(owner_in(TCP, "127.0.0.1:1".parse().expect("addr")), None);
        // A v4 client of a dual-stack listener, and a v6 loopback client.
        assert_eq!(owner_in(TCP6, "[::ffff:127.0.0.1]:50000".parse().expect("addr")), Some(1000));
        assert_eq!(owner_in(TCP6, "127.0.0.1:50000".parse().expect("addr")), Some(1000));
        assert_eq!(owner_in(TCP6, "[::1]:50001".parse().expect("addr")), Some(1001));
    }

    #[test]
    fn this_process_owns_its_own_client_socket() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let client = std::net::TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        assert!(is_own_user(client.local_addr().expect("addr")));
    }
}
