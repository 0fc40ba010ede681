//! TLS for deliveries to `https://` receivers: rustls on ring, trusting Mozilla's roots
//! (webpki-roots, compiled in, so a server needs no system certificate store) and any the
//! operator adds for receivers behind a private authority (`chanlab serve
//! --webhook-ca-file`). The certificate must name the URL's host; plain `http://` is still
//! delivered as it is.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// The TLS client configuration of the webhook sender, trusting Mozilla's roots and the
/// certificates in `extra_pem` (PEM), if any. Errors say what is wrong with `extra_pem`.
pub fn client_config(extra_pem: Option<&[u8]>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra_pem {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| format!("not a PEM certificate: {e}"))?;
            roots
                .add(cert)
                .map_err(|e| format!("a certificate that cannot be trusted: {e}"))?;
            added += 1;
        }
        if added == 0 {
            return Err("no PEM certificate (-----BEGIN CERTIFICATE-----) in it".to_owned());
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("no TLS version to offer: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_roots_must_be_pem_certificates() {
        assert!(client_config(None).is_ok());
        let err = client_config(Some(b"not a certificate")).unwrap_err();
        assert!(err.contains("no PEM certificate"), "{err}");
        let torn = b"-----BEGIN CERTIFICATE-----\nAAAA\n";
        assert!(client_config(Some(torn)).is_err());
    }
}
