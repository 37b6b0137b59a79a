//! Our BC39 in bootstrap mode (BC39 §5.2.2) against Wakaama's bootstrap_server, which hands it
//! the account of a Wakaama lwm2mserver: the whole chain, bootstrap then registration.

use crate::modem::Host;
use crate::peer::{binaries, free_udp_port, Peer};

#[test]
fn bc39_bootstraps_from_wakaama_then_registers_with_lwm2mserver() {
    let Some(dir) = binaries() else { return };
    let (bs_port, lwm2m_port) = (free_udp_port(), free_udp_port());
    let mut server = Peer::spawn(&dir, "lwm2mserver", &["-4", "-l", &lwm2m_port.to_string()]);
    // Wakaama's own format (examples/bootstrap_server/bootstrap_server.ini): one NoSec account;
    // the unnamed endpoint section applies to every client. Its parser fails on a file whose
    // last section is that unnamed one, hence a named section nobody matches after it.
    let ini = format!(
        "[Server]\nid=1\nuri=coap://127.0.0.1:{lwm2m_port}\nbootstrap=no\nlifetime=300\nsecurity=NoSec\n\n\
         [Endpoint]\nDelete=/0\nDelete=/1\nServer=1\n\n\
         [Endpoint]\nName=miplcheck-nobody\nDelete=/\nServer=1\n"
    );
    let ini_dir = std::env::temp_dir().join(format!("miplcheck-wakaama-bs-{}", std::process::id()));
    std::fs::create_dir_all(&ini_dir).unwrap();
    let ini_path = ini_dir.join("bootstrap_server.ini");
    std::fs::write(&ini_path, ini).unwrap();
    let mut bs =
        Peer::spawn(&dir, "bootstrap_server", &["-4", "-l", &bs_port.to_string(), "-f", ini_path.to_str().unwrap()]);

    let mut host = Host::start("bc39");
    host.cmd("AT+CMEE=1");
    host.cmd(&format!("AT+MIPLCONFIG=1,127.0.0.1,{bs_port}"));
    host.cmd("AT+MIPLCREATE");
    host.cmd("AT+MIPLADDOBJ=0,3311,1,\"1\",4,2");
    host.cmd("AT+MIPLOPEN=0,300,60");
    // 1 and 2: bootstrap started and done; 4 and 6: connected to and registered with the server.
    for event in [1, 2, 4, 6] {
        host.urc(&format!(r"\+MIPLEVENT: 0,{event}"));
    }
    bs.wait_for(r"Bootstrap request from");
    server.wait_for(r"New client #0 registered\.\n[\s\S]*?lifetime: 300 sec\n\s*objects: [^\n]*/3311/0");
    let _ = std::fs::remove_dir_all(&ini_dir);
}
