import CCurl
import CDeflate
import CMicroHTTPD
import COpenBLAS
import COpenSSL
import CPNG
import CSQLite
import CYAML
import Testing

/// Each Debian library is found through pkg-config, links, and is a version the code was written against.
@Suite struct ShimLinkTests {
    @Test("libcurl is linked and speaks HTTPS through OpenSSL")
    func curl() throws {
        let info = try #require(tierserve_curl_version_info())
        #expect(info.pointee.features & CURL_VERSION_SSL != 0)
        let ssl = String(cString: try #require(info.pointee.ssl_version))
        #expect(ssl.hasPrefix("OpenSSL"))
    }

    @Test("SQLite is at least 3.35, for RETURNING and strict tables")
    func sqlite() {
        #expect(sqlite3_libversion_number() >= 3_035_000)
    }

    @Test("libmicrohttpd, libyaml, libdeflate, libpng and OpenSSL report versions")
    func versions() throws {
        #expect(String(cString: try #require(MHD_get_version())).hasPrefix("0.9"))
        #expect(String(cString: try #require(yaml_get_version_string())).hasPrefix("0.2"))
        #expect(LIBDEFLATE_VERSION_MAJOR == 1)
        #expect(png_access_version_number() >= 10_600)
        #expect(OpenSSL_version_num() >= 0x3000_0000)
    }

    @Test("OpenBLAS multiplies a 2x2 matrix")
    func blas() {
        let a: [Float] = [1, 2, 3, 4]
        let b: [Float] = [5, 6, 7, 8]
        var c = [Float](repeating: 0, count: 4)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1, a, 2, b, 2, 0, &c, 2)
        #expect(c == [19, 22, 43, 50])
    }
}
