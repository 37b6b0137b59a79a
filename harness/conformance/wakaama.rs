//! Interop with Eclipse Wakaama, an LwM2M stack nobody on this team wrote, built from the pinned
//! tarball in ../shared/peers by `harness/conformance/peers/build-wakaama.sh`. CI builds it and
//! sets MIPLCHECK_REQUIRE_WAKAAMA=1; elsewhere these tests say they were skipped when it is not
//! built. Every check is made on both sides: what Wakaama prints and what our side saw.

#[path = "wakaama/bootstrap.rs"]
mod bootstrap;
#[path = "wakaama/client_platform.rs"]
mod client_platform;
#[path = "wakaama/dtls.rs"]
mod dtls;
#[path = "wakaama/emulator_server.rs"]
mod emulator_server;
#[path = "wakaama/m5310a_server.rs"]
mod m5310a_server;
#[path = "wakaama/modem.rs"]
mod modem;
#[path = "wakaama/peer.rs"]
mod peer;
