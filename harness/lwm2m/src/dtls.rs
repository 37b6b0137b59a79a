//! DTLS 1.2 with a pre-shared key, as OneNET uses it (DESIGN: TLS_PSK_WITH_AES_128_CCM_8, identity =
//! the IMEI), over datagrams handed in and out — no socket, no clock — so it wraps the sans-I/O
//! endpoint on either side.

use openssl::error::ErrorStack;
use openssl::ssl::{
    ErrorCode, HandshakeError, MidHandshakeSslStream, Ssl, SslContext, SslContextBuilder, SslMethod, SslOptions,
    SslStream, SslVerifyMode,
};
use std::collections::VecDeque;
use std::io::{self, Read, Write};

/// OpenSSL's name for TLS_PSK_WITH_AES_128_CCM_8; its 8-byte tag needs security level 0.
pub const CIPHER: &str = "PSK-AES128-CCM8:@SECLEVEL=0";
/// Records are sized for NB-IoT paths.
const MTU: u32 = 1200;

/// Datagrams in and out, for OpenSSL to read and write.
#[derive(Debug, Default)]
struct Datagrams {
    incoming: VecDeque<Vec<u8>>,
    outgoing: Vec<Vec<u8>>,
}

impl Read for Datagrams {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.incoming.pop_front() {
            Some(d) => {
                let n = d.len().min(buf.len());
                buf[..n].copy_from_slice(&d[..n]);
                Ok(n)
            }
            None => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl Write for Datagrams {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.outgoing.push(buf.to_vec());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum State {
    Handshaking(MidHandshakeSslStream<Datagrams>),
    Ready(SslStream<Datagrams>),
    Failed(String),
}

/// Why a DTLS session could not be set up or could not seal data.
#[derive(Debug, thiserror::Error)]
pub enum DtlsError {
    /// OpenSSL could not make the context or the session.
    #[error("{0}")]
    OpenSsl(#[source] ErrorStack),
    /// OpenSSL could not encrypt the application data.
    #[error("{0}")]
    Write(#[source] openssl::ssl::Error),
    /// Data to seal before the handshake finished.
    #[error("the DTLS handshake has not finished")]
    Handshaking,
    /// Data to seal on an association that failed, and why it did.
    #[error("the DTLS association failed: {0}")]
    Failed(String),
}

/// What a datagram brought.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Datagrams to send back (handshake flights, alerts).
    pub send: Vec<Vec<u8>>,
    /// Application data that arrived.
    pub plaintext: Vec<Vec<u8>>,
    /// The handshake finished with this datagram.
    pub connected: bool,
}

/// DTLS record header: type, version, epoch, sequence number, length (RFC 6347 §4.1).
const RECORD_HEADER: usize = 13;
/// What [`CIPHER`] adds to an encrypted record: an 8-byte explicit nonce and an 8-byte tag.
const CCM8_OVERHEAD: usize = 16;

/// The records of a datagram worth handing to OpenSSL, in order: a record cut short by the end
/// of the datagram, and an encrypted one (epoch > 0) too short to hold the nonce and the tag, are
/// dropped, as RFC 6347 §4.1.2.7 has invalid records silently discarded.
fn usable_records(datagram: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(datagram.len());
    let mut rest = datagram;
    while rest.len() >= RECORD_HEADER {
        let epoch = u16::from_be_bytes([rest[3], rest[4]]);
        let len = usize::from(u16::from_be_bytes([rest[11], rest[12]]));
        let Some(record) = rest.get(..RECORD_HEADER + len) else { break };
        if epoch == 0 || len >= CCM8_OVERHEAD {
            out.extend_from_slice(record);
        }
        rest = &rest[RECORD_HEADER + len..];
    }
    out
}

/// One DTLS association, client or server.
pub struct Session {
    state: State,
}

fn context(f: impl FnOnce(&mut SslContextBuilder)) -> Result<SslContext, ErrorStack> {
    let mut b = SslContext::builder(SslMethod::dtls())?;
    b.set_cipher_list(CIPHER)?;
    b.set_verify(SslVerifyMode::NONE);
    b.set_options(SslOptions::NO_QUERY_MTU | SslOptions::NO_TICKET);
    f(&mut b);
    Ok(b.build())
}

fn ssl(ctx: &SslContext) -> Result<Ssl, DtlsError> {
    let mut ssl = Ssl::new(ctx).map_err(DtlsError::OpenSsl)?;
    ssl.set_mtu(MTU).map_err(DtlsError::OpenSsl)?;
    Ok(ssl)
}

impl Session {
    /// Starts a handshake as the client (the module); returns the first flight to send.
    pub fn client(identity: &str, psk: &[u8]) -> Result<(Session, Vec<Vec<u8>>), DtlsError> {
        let (identity, psk) = (identity.as_bytes().to_vec(), psk.to_vec());
        let ctx = context(|b| {
            b.set_psk_client_callback(move |_ssl, _hint, id_out, psk_out| {
                if identity.len() >= id_out.len() || psk.len() > psk_out.len() {
                    return Ok(0);
                }
                id_out[..identity.len()].copy_from_slice(&identity);
                id_out[identity.len()] = 0;
                psk_out[..psk.len()].copy_from_slice(&psk);
                Ok(psk.len())
            });
        })
        .map_err(DtlsError::OpenSsl)?;
        let mut s = Session { state: State::Failed(String::new()) };
        let first = s.advance(ssl(&ctx)?.connect(Datagrams::default()));
        Ok((s, first.send))
    }

    /// Waits for a client's handshake as the server (the platform); `psk_for` gives the key for an
    /// identity, or `None` to refuse it.
    pub fn server(psk_for: impl Fn(&[u8]) -> Option<Vec<u8>> + Send + Sync + 'static) -> Result<Session, DtlsError> {
        let ctx = context(|b| {
            b.set_psk_server_callback(move |_ssl, identity, psk_out| match identity.and_then(&psk_for) {
                Some(k) if k.len() <= psk_out.len() => {
                    psk_out[..k.len()].copy_from_slice(&k);
                    Ok(k.len())
                }
                _ => Ok(0),
            });
        })
        .map_err(DtlsError::OpenSsl)?;
        let mut s = Session { state: State::Failed(String::new()) };
        s.advance(ssl(&ctx)?.accept(Datagrams::default()));
        Ok(s)
    }

    fn advance(&mut self, r: Result<SslStream<Datagrams>, HandshakeError<Datagrams>>) -> Progress {
        let mut p = Progress::default();
        match r {
            Ok(mut stream) => {
                p.send = std::mem::take(&mut stream.get_mut().outgoing);
                p.connected = true;
                self.state = State::Ready(stream);
            }
            Err(HandshakeError::WouldBlock(mut mid)) => {
                p.send = std::mem::take(&mut mid.get_mut().outgoing);
                self.state = State::Handshaking(mid);
            }
            Err(HandshakeError::Failure(mut mid)) => {
                p.send = std::mem::take(&mut mid.get_mut().outgoing);
                self.state = State::Failed(mid.error().to_string());
            }
            Err(HandshakeError::SetupFailure(e)) => self.state = State::Failed(e.to_string()),
        }
        p
    }

    /// Still exchanging handshake flights.
    pub fn is_handshaking(&self) -> bool {
        matches!(self.state, State::Handshaking(_))
    }

    pub fn is_connected(&self) -> bool {
        matches!(self.state, State::Ready(_))
    }

    /// Why the association failed, once it has.
    pub fn failure(&self) -> Option<&str> {
        match &self.state {
            State::Failed(why) => Some(why),
            _ => None,
        }
    }

    /// A datagram from the peer. What [`usable_records`] drops never reaches OpenSSL: an empty
    /// datagram would read as end of file and fail the session, and an encrypted record shorter
    /// than the cipher's overhead makes OpenSSL 3 end the association with a fatal alert, so one
    /// forged datagram from anyone, knowing no key, could end it.
    pub fn on_datagram(&mut self, bytes: &[u8]) -> Progress {
        let bytes = &usable_records(bytes);
        if bytes.is_empty() {
            return Progress::default();
        }
        match std::mem::replace(&mut self.state, State::Failed("in use".into())) {
            State::Handshaking(mut mid) => {
                mid.get_mut().incoming.push_back(bytes.to_vec());
                let mut p = self.advance(mid.handshake());
                // Application data may follow the last flight in the same exchange.
                if let State::Ready(_) = self.state {
                    let more = self.read_ready();
                    p.plaintext = more.plaintext;
                    p.send.extend(more.send);
                }
                p
            }
            State::Ready(mut stream) => {
                stream.get_mut().incoming.push_back(bytes.to_vec());
                self.state = State::Ready(stream);
                self.read_ready()
            }
            failed @ State::Failed(_) => {
                self.state = failed;
                Progress::default()
            }
        }
    }

    fn read_ready(&mut self) -> Progress {
        let mut p = Progress::default();
        let State::Ready(stream) = &mut self.state else { return p };
        let mut buf = vec![0u8; 2048];
        loop {
            match stream.ssl_read(&mut buf) {
                Ok(n) => p.plaintext.push(buf[..n].to_vec()),
                Err(e) if e.code() == ErrorCode::WANT_READ => break,
                Err(e) if e.code() == ErrorCode::ZERO_RETURN => {
                    self.state = State::Failed("the peer closed the association".into());
                    break;
                }
                Err(e) => {
                    let why = e.to_string();
                    self.state = State::Failed(why);
                    break;
                }
            }
        }
        if let State::Ready(stream) = &mut self.state {
            p.send = std::mem::take(&mut stream.get_mut().outgoing);
        }
        p
    }

    /// Encrypts application data into datagrams to send.
    pub fn seal(&mut self, plaintext: &[u8]) -> Result<Vec<Vec<u8>>, DtlsError> {
        match &mut self.state {
            State::Ready(stream) => {
                stream.ssl_write(plaintext).map_err(DtlsError::Write)?;
                Ok(std::mem::take(&mut stream.get_mut().outgoing))
            }
            State::Handshaking(_) => Err(DtlsError::Handshaking),
            State::Failed(why) => Err(DtlsError::Failed(why.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a handshake between two sessions in memory; returns both once neither has more to say.
    fn handshake(psk_client: &[u8], psk_server: &'static [u8]) -> (Session, Session) {
        let (mut c, mut to_server) = Session::client("866971030000001", psk_client).unwrap();
        let mut s = Session::server(move |id| (id == b"866971030000001").then(|| psk_server.to_vec())).unwrap();
        let mut to_client: Vec<Vec<u8>> = vec![];
        for _ in 0..20 {
            if to_server.is_empty() && to_client.is_empty() {
                break;
            }
            for d in std::mem::take(&mut to_server) {
                to_client.extend(s.on_datagram(&d).send);
            }
            for d in std::mem::take(&mut to_client) {
                to_server.extend(c.on_datagram(&d).send);
            }
        }
        (c, s)
    }

    #[test]
    fn psk_handshake_then_coap_both_ways() {
        let (mut c, mut s) = handshake(b"FhyvhmgIRQrde4In", b"FhyvhmgIRQrde4In");
        assert!(c.is_connected() && s.is_connected(), "client: {:?}, server: {:?}", c.failure(), s.failure());
        let sealed = c.seal(b"CON POST /rd").unwrap();
        assert!(sealed.iter().all(|d| !d.windows(4).any(|w| w == b"POST")), "encrypted on the wire");
        let got: Vec<Vec<u8>> = sealed.iter().flat_map(|d| s.on_datagram(d).plaintext).collect();
        assert_eq!(got, [b"CON POST /rd".to_vec()]);
        let back: Vec<Vec<u8>> = s.seal(b"ACK 2.01").unwrap().iter().flat_map(|d| c.on_datagram(d).plaintext).collect();
        assert_eq!(back, [b"ACK 2.01".to_vec()]);
    }

    /// DTLS drops a record that fails authentication instead of answering it (RFC 6347
    /// §4.1.2.7), so a wrong key shows as a handshake that never finishes: the caller's timer
    /// turns that into a connection failure (BC39 event 5).
    #[test]
    fn a_wrong_psk_never_connects() {
        let (mut c, s) = handshake(b"wrong-key-000000", b"FhyvhmgIRQrde4In");
        assert!(!c.is_connected() && !s.is_connected());
        assert!(c.seal(b"CON POST /rd").is_err(), "nothing can be sent");
    }

    #[test]
    fn an_unknown_identity_is_refused() {
        let (mut c, first) = Session::client("000000000000000", b"FhyvhmgIRQrde4In").unwrap();
        let mut s = Session::server(|id| (id == b"866971030000001").then(|| b"FhyvhmgIRQrde4In".to_vec())).unwrap();
        let mut pending = first;
        for _ in 0..10 {
            let mut back = vec![];
            for d in pending.drain(..) {
                back.extend(s.on_datagram(&d).send);
            }
            for d in back {
                pending.extend(c.on_datagram(&d).send);
            }
        }
        assert!(!s.is_connected() && !c.is_connected());
        assert!(c.seal(b"x").is_err());
    }

    #[test]
    fn seal_messages_are_unchanged() {
        let (mut c, _) = Session::client("866971030000001", b"FhyvhmgIRQrde4In").unwrap();
        let e = c.seal(b"x").unwrap_err();
        assert!(matches!(e, DtlsError::Handshaking), "{e:?}");
        assert_eq!(e.to_string(), "the DTLS handshake has not finished");
        let failed = DtlsError::Failed("the peer closed the association".into());
        assert_eq!(failed.to_string(), "the DTLS association failed: the peer closed the association");
    }
}
