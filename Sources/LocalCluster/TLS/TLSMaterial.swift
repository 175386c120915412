import COpenSSL
import Foundation

/// The cluster's certificate authority and serving certificate, made with OpenSSL at first start and kept
/// as PEM files in the state directory (`ca.crt`, `ca.key`, `server.crt`, `server.key`).
///
/// Every OpenSSL handle is owned by one of the small final classes below, which free it in `deinit`;
/// nothing else in the local cluster calls OpenSSL.
struct TLSMaterial: Sendable {
    /// The CA certificate clients trust (kubectl's `certificate-authority`).
    let caCertificatePEM: String
    /// The serving certificate, signed by the CA, for 127.0.0.1 and localhost.
    let serverCertificatePEM: String
    /// The serving certificate's key.
    let serverKeyPEM: String

    /// Loads the material from `directory`, or makes and saves it when any file is missing.
    ///
    /// - Throws: `LocalClusterError` when OpenSSL fails or the files cannot be written.
    static func loadOrCreate(in directory: URL, host: String) throws(LocalClusterError) -> TLSMaterial {
        let names = ["ca.crt", "ca.key", "server.crt", "server.key"]
        let paths = names.map { directory.appendingPathComponent($0).path }
        if paths.allSatisfy({ FileManager.default.fileExists(atPath: $0) }),
            let texts = try? paths.map({ try String(contentsOfFile: $0, encoding: .utf8) })
        {
            return TLSMaterial(caCertificatePEM: texts[0], serverCertificatePEM: texts[2], serverKeyPEM: texts[3])
        }

        let caKey = try OpenSSLKey.generate()
        let ca = try OpenSSLCertificate.make(
            commonName: "tierserve-local-cluster-ca", publicKey: caKey, issuer: nil, issuerKey: caKey,
            extensions: [
                (NID_basic_constraints, "critical,CA:TRUE"),
                (NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"),
            ])
        let serverKey = try OpenSSLKey.generate()
        var alternativeNames = "IP:127.0.0.1,DNS:localhost"
        if host != "127.0.0.1" && !host.isEmpty { alternativeNames += ",IP:\(host)" }
        let server = try OpenSSLCertificate.make(
            commonName: "tierserve-local-cluster", publicKey: serverKey, issuer: ca, issuerKey: caKey,
            extensions: [
                (NID_basic_constraints, "critical,CA:FALSE"),
                (NID_key_usage, "critical,digitalSignature,keyEncipherment"),
                (NID_ext_key_usage, "serverAuth"), (NID_subject_alt_name, alternativeNames),
            ])
        let material = TLSMaterial(
            caCertificatePEM: try ca.pem(), serverCertificatePEM: try server.pem(), serverKeyPEM: try serverKey.pem())
        let texts = [material.caCertificatePEM, try caKey.pem(), material.serverCertificatePEM, material.serverKeyPEM]
        do {
            for (path, text) in zip(paths, texts) {
                try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
                if path.hasSuffix(".key") { chmod(path, 0o600) }
            }
        } catch {
            throw LocalClusterError(
                .stateDirectory, message: "could not write TLS files in \(directory.path): \(error)")
        }
        return material
    }
}

/// Owns one `EVP_PKEY`.
final class OpenSSLKey {
    let handle: OpaquePointer

    private init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit { EVP_PKEY_free(handle) }

    /// A new P-256 key.
    static func generate() throws(LocalClusterError) -> OpenSSLKey {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else {
            throw failure("EVP_PKEY_CTX_new_from_name")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_CTX_set_group_name(context, "P-256") == 1,
            EVP_PKEY_generate(context, &key) == 1, let key
        else { throw failure("EVP_PKEY_generate") }
        return OpenSSLKey(handle: key)
    }

    /// The key as unencrypted PKCS #8 PEM.
    func pem() throws(LocalClusterError) -> String {
        let bio = try MemoryBIO()
        guard PEM_write_bio_PrivateKey(bio.handle, handle, nil, nil, 0, nil, nil) == 1 else {
            throw failure("PEM_write_bio_PrivateKey")
        }
        return bio.text()
    }
}

/// Owns one `X509`.
final class OpenSSLCertificate {
    let handle: OpaquePointer

    private init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit { X509_free(handle) }

    /// A certificate for `commonName` carrying `publicKey`, signed by `issuerKey`; self-signed when `issuer`
    /// is nil. Valid from an hour ago for ten years.
    static func make(
        commonName: String, publicKey: OpenSSLKey, issuer: OpenSSLCertificate?, issuerKey: OpenSSLKey,
        extensions: [(Int32, String)]
    ) throws(LocalClusterError) -> OpenSSLCertificate {
        guard let handle = X509_new() else { throw failure("X509_new") }
        let certificate = OpenSSLCertificate(handle: handle)
        let name = X509_get_subject_name(handle)
        guard X509_set_version(handle, 2) == 1,
            ASN1_INTEGER_set(X509_get_serialNumber(handle), Int(UInt32.random(in: 1...UInt32.max))) == 1,
            X509_gmtime_adj(X509_getm_notBefore(handle), -3600) != nil,
            X509_gmtime_adj(X509_getm_notAfter(handle), 10 * 365 * 86400) != nil,
            X509_set_pubkey(handle, publicKey.handle) == 1,
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, commonName, -1, -1, 0) == 1,
            X509_set_issuer_name(handle, issuer.map { X509_get_subject_name($0.handle) } ?? name) == 1
        else { throw failure("X509 fields") }

        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer?.handle ?? handle, handle, nil, nil, 0)
        for (nid, value) in extensions {
            guard let extensionHandle = X509V3_EXT_conf_nid(nil, &context, nid, value) else {
                throw failure("X509V3_EXT_conf_nid \(value)")
            }
            defer { X509_EXTENSION_free(extensionHandle) }
            guard X509_add_ext(handle, extensionHandle, -1) == 1 else { throw failure("X509_add_ext") }
        }
        guard X509_sign(handle, issuerKey.handle, EVP_sha256()) > 0 else { throw failure("X509_sign") }
        return certificate
    }

    /// The certificate as PEM.
    func pem() throws(LocalClusterError) -> String {
        let bio = try MemoryBIO()
        guard PEM_write_bio_X509(bio.handle, handle) == 1 else { throw failure("PEM_write_bio_X509") }
        return bio.text()
    }
}

/// Owns one memory `BIO`.
private final class MemoryBIO {
    let handle: OpaquePointer

    init() throws(LocalClusterError) {
        guard let handle = BIO_new(BIO_s_mem()) else { throw failure("BIO_new") }
        self.handle = handle
    }

    deinit { BIO_free(handle) }

    /// Everything written so far, as text.
    func text() -> String {
        let count = Int(BIO_ctrl_pending(handle))
        var bytes = [UInt8](repeating: 0, count: count)
        let read = bytes.withUnsafeMutableBytes { BIO_read(handle, $0.baseAddress, Int32(count)) }
        return String(decoding: bytes.prefix(max(0, Int(read))), as: UTF8.self)
    }
}

private func failure(_ call: String) -> LocalClusterError {
    LocalClusterError(.tls, message: "OpenSSL failed in \(call) while making the cluster's certificates")
}
