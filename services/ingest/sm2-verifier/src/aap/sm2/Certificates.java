package aap.sm2;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertStore;
import java.security.cert.CertificateFactory;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.text.SimpleDateFormat;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TimeZone;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * Certificates as the verifiers need them: the customer's trust anchors read, a signer's chain
 * built to one of them with BouncyCastle's PKIX builder (every certificate of the bundle is an
 * anchor; revocation is not checked, the archive fetches no CRL or OCSP), and names and times
 * as a report says them.
 */
final class Certificates {
    static final BouncyCastleProvider BC = new BouncyCastleProvider();

    private Certificates() {}

    static List<X509Certificate> readBundle(Path pem) throws IOException, GeneralSecurityException {
        CertificateFactory factory = CertificateFactory.getInstance("X.509", BC);
        List<X509Certificate> certs = new ArrayList<>();
        try (InputStream in = Files.newInputStream(pem)) {
            for (var cert : factory.generateCertificates(in)) {
                certs.add((X509Certificate) cert);
            }
        }
        return certs;
    }

    static X509Certificate certificate(byte[] der) throws GeneralSecurityException {
        return (X509Certificate) CertificateFactory.getInstance("X.509", BC)
                .generateCertificate(new ByteArrayInputStream(der));
    }

    /** "" if the certificate chains to one of the anchors (through ``more``, what the signature
     * carries, where needed), else why not. */
    static String chainProblem(
            X509Certificate cert, List<X509Certificate> anchors, Collection<X509Certificate> more) {
        try {
            Set<TrustAnchor> roots = new HashSet<>();
            for (X509Certificate a : anchors) {
                roots.add(new TrustAnchor(a, null));
            }
            X509CertSelector target = new X509CertSelector();
            target.setCertificate(cert);
            PKIXBuilderParameters params = new PKIXBuilderParameters(roots, target);
            params.setRevocationEnabled(false);
            List<X509Certificate> pool = new ArrayList<>(anchors);
            pool.addAll(more);
            pool.add(cert);
            params.addCertStore(
                    CertStore.getInstance("Collection", new CollectionCertStoreParameters(pool), BC));
            CertPathBuilder.getInstance("PKIX", BC).build(params);
            return "";
        } catch (GeneralSecurityException error) {
            return "no path to a trust anchor (" + error.getMessage() + ")";
        }
    }

    static String chainProblem(X509Certificate cert, List<X509Certificate> anchors) {
        return chainProblem(cert, anchors, List.of());
    }

    private static final Map<String, String> ALGORITHMS = Map.of(
            "1.2.156.10197.1.501", "sm2_sm3",
            "1.2.156.10197.1.301.1", "sm2_sm3",
            "1.2.840.10045.4.3.2", "sha256_ecdsa",
            "1.2.840.113549.1.1.11", "sha256_rsa");

    static String algorithm(String oid) {
        return ALGORITHMS.getOrDefault(oid, oid);
    }

    /** A name as a reader says it: its common name, and its organisation where that says more. */
    static String name(byte[] encoded) {
        X500Name x = X500Name.getInstance(encoded);
        String common = first(x, BCStyle.CN);
        String org = first(x, BCStyle.O);
        if (common.isEmpty()) {
            return x.toString();
        }
        return !org.isEmpty() && !common.contains(org) ? common + " (" + org + ")" : common;
    }

    private static String first(X500Name x, ASN1ObjectIdentifier attr) {
        RDN[] rdns = x.getRDNs(attr);
        return rdns.length == 0 ? "" : IETFUtils.valueToString(rdns[0].getFirst().getValue());
    }

    static String iso(Date time) {
        SimpleDateFormat f = new SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss'Z'");
        f.setTimeZone(TimeZone.getTimeZone("UTC"));
        return f.format(time);
    }

    static String describe(Throwable error) {
        String message = error.getMessage();
        return error.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }
}
