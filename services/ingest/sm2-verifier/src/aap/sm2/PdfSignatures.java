package aap.sm2;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.cms.Time;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;

/**
 * A PDF signature whose algorithm pyHanko cannot verify (SM2 with SM3, GM/T 0010): its CMS
 * SignedData checked against the bytes the PDF's /ByteRange covers, which the Python side cut
 * out (it also judges what was changed after signing). Answers {"signer": …, "intact": …} or
 * {"unreadable": "why"}.
 */
final class PdfSignatures {
    private PdfSignatures() {}

    static String answer(Path signedBytes, Path cms, List<X509Certificate> anchors) {
        try {
            return Json.object(verify(Files.readAllBytes(signedBytes), Files.readAllBytes(cms), anchors));
        } catch (Exception error) { // a CMS that cannot be read is no signature: each a reason
            return Json.object(Map.of("unreadable", Certificates.describe(error)));
        }
    }

    static Map<String, Object> verify(byte[] data, byte[] cmsBytes, List<X509Certificate> anchors)
            throws Exception {
        CMSSignedData cms = new CMSSignedData(new CMSProcessableByteArray(data), cmsBytes);
        var converter = new JcaX509CertificateConverter().setProvider(Certificates.BC);
        List<X509Certificate> carried = new ArrayList<>();
        for (X509CertificateHolder holder : cms.getCertificates().getMatches(null)) {
            carried.add(converter.getCertificate(holder));
        }
        var signers = cms.getSignerInfos().getSigners();
        if (signers.size() != 1) {
            throw new IllegalArgumentException(signers.size() + " signers, where a PDF signature has one");
        }
        SignerInformation signer = signers.iterator().next();
        @SuppressWarnings("unchecked")
        var matches = cms.getCertificates().getMatches(signer.getSID());
        if (matches.isEmpty()) {
            throw new IllegalArgumentException("the signer's certificate is not in the signature");
        }
        X509Certificate cert = converter.getCertificate((X509CertificateHolder) matches.iterator().next());
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("signer", Certificates.name(cert.getSubjectX500Principal().getEncoded()));
        r.put("issuer", Certificates.name(cert.getIssuerX500Principal().getEncoded()));
        r.put("algorithm", Certificates.algorithm(signer.getEncryptionAlgOID()));
        AttributeTable signed = signer.getSignedAttributes();
        Attribute time = signed == null ? null : signed.get(CMSAttributes.signingTime);
        if (time != null) {
            r.put("signed_at", Certificates.iso(Time.getInstance(time.getAttrValues().getObjectAt(0)).getDate()));
        }
        boolean intact;
        String defect = "";
        try {
            intact = signer.verify(new JcaSimpleSignerInfoVerifierBuilder()
                    .setProvider(Certificates.BC).build(cert));
        } catch (Exception bad) {
            intact = false;
            defect = "the signature does not verify (" + Certificates.describe(bad) + ")";
        }
        r.put("intact", intact);
        r.put("defect", intact ? "" : defect.isEmpty() ? "the signature does not verify" : defect);
        if (!anchors.isEmpty()) {
            String problem = Certificates.chainProblem(cert, anchors, carried);
            r.put("trusted", problem.isEmpty());
            r.put("chain_problem", problem);
        }
        return r;
    }
}
