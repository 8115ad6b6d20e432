package aap.sm2;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Sequence;
import org.ofdrw.core.basicType.ST_Loc;
import org.ofdrw.core.signatures.SigType;
import org.ofdrw.core.signatures.Signatures;
import org.ofdrw.core.signatures.range.Reference;
import org.ofdrw.core.signatures.range.References;
import org.ofdrw.core.signatures.sig.Signature;
import org.ofdrw.gm.ses.parse.SESVersion;
import org.ofdrw.gm.ses.parse.SESVersionHolder;
import org.ofdrw.gm.ses.parse.VersionParser;
import org.ofdrw.gm.ses.v4.CertInfoList;
import org.ofdrw.gm.ses.v4.SES_CertList;
import org.ofdrw.gm.ses.v4.SES_ESPropertyInfo;
import org.ofdrw.gm.ses.v4.SES_Signature;
import org.ofdrw.gm.ses.v4.SESeal;
import org.ofdrw.gm.ses.v4.TBS_Sign;
import org.ofdrw.gm.sm2strut.ContentInfo;
import org.ofdrw.gm.sm2strut.SignedData;
import org.ofdrw.reader.OFDReader;
import org.ofdrw.reader.ResourceLocator;
import org.ofdrw.sign.verify.SignedDataValidateContainer;
import org.ofdrw.sign.verify.container.GBT35275ValidateContainer;
import org.ofdrw.sign.verify.container.SESV1ValidateContainer;
import org.ofdrw.sign.verify.container.SESV4ValidateContainer;

/**
 * Each signature and seal (签章) of an OFD verified. It is given only an OFD the Python side has
 * already opened within its zip limits, and answers {"signatures": [...]} or {"unreadable": "why"}.
 *
 * <p>For each entry of Signatures.xml, as GB/T 38540-2020 (安全电子签章密码技术规范) 7.4 has a
 * verifier do: the protected files' digests against Signature.xml's References (the document
 * unaltered); the signature value over Signature.xml, by the signer's certificate (ofdrw's
 * validators: SES v4 of GB/T 38540, v1 of GM/T 0031, and GB/T 35275 signed data for a digital
 * signature without a seal); for a v4 seal, the seal's own signature by its maker
 * (制章者), the signer's certificate among those the seal lists, and the signing time within
 * the seal's validity; then the signer's certificate chained to the customer's trust anchors
 * (every certificate of the PEM bundle is one) with BouncyCastle's PKIX builder. Revocation is
 * not checked: the archive fetches no CRL or OCSP. Files the package holds that no signature
 * protects (beyond the signatures' own files) are reported: added after signing.
 */
final class OfdSeals {
    private OfdSeals() {}

    static String answer(Path ofd, List<X509Certificate> anchors) {
        try (OFDReader reader = new OFDReader(ofd)) {
            return Json.object(Map.of("signatures", verifyAll(reader, anchors)));
        } catch (Exception error) { // ofdrw raises many types for a broken package: each a reason
            return Json.object(Map.of("unreadable", Certificates.describe(error)));
        }
    }

    static List<Map<String, Object>> verifyAll(OFDReader reader, List<X509Certificate> anchors)
            throws Exception {
        ResourceLocator rl = reader.getResourceLocator();
        ST_Loc listLoc = reader.getDefaultDocSignaturesPath();
        List<Map<String, Object>> out = new ArrayList<>();
        if (listLoc == null) {
            return out;
        }
        rl.cd("/");
        Signatures list = rl.get(listLoc, Signatures::new);
        Set<String> covered = new HashSet<>();
        Set<String> own = new HashSet<>(Set.of(absolute(rl.getFile(listLoc), reader)));
        List<Map<String, Object>> read = new ArrayList<>();
        for (var record : list.getSignatures()) {
            rl.save();
            try {
                rl.cd("/");
                rl.cd(listLoc.parent());
                ST_Loc sigLoc = record.getBaseLoc();
                Path sigFile = rl.getFile(sigLoc);
                own.add(absolute(sigFile, reader));
                Signature sig = rl.get(sigLoc, Signature::new);
                rl.cd(sigLoc.parent());
                own.add(absolute(rl.getFile(sig.getSignedValue()), reader));
                var seal = sig.getSignedInfo().getSeal();
                if (seal != null) {
                    own.add(absolute(rl.getFile(seal.getBaseLoc()), reader));
                }
                read.add(verifyOne(reader, rl, record, sigFile, sig, anchors, covered));
            } catch (Exception error) {
                read.add(Map.of("id", String.valueOf(record.getID()), "unreadable", Certificates.describe(error)));
            } finally {
                rl.restore();
            }
        }
        // What the package holds that no signature protects: added after the last signing.
        Set<String> added = new TreeSet<>();
        Path root = reader.getOFDDir().getContainerPath();
        try (var walk = Files.walk(root)) {
            walk.filter(Files::isRegularFile)
                    .map(p -> absolute(p, reader))
                    .filter(p -> !covered.contains(p) && !own.contains(p))
                    .forEach(added::add);
        }
        for (var sig : read) {
            Map<String, Object> withAdded = new LinkedHashMap<>(sig);
            withAdded.put("added_after", new ArrayList<>(added));
            out.add(withAdded);
        }
        return out;
    }

    private static String absolute(Path file, OFDReader reader) {
        Path root = reader.getOFDDir().getContainerPath();
        return "/" + root.relativize(file).toString().replace('\\', '/');
    }

    static Map<String, Object> verifyOne(
            OFDReader reader,
            ResourceLocator rl,
            org.ofdrw.core.signatures.Signature record,
            Path sigFile,
            Signature sig,
            List<X509Certificate> anchors,
            Set<String> covered)
            throws Exception {
        Map<String, Object> r = new LinkedHashMap<>();
        SigType type = record.getType() == null ? SigType.Seal : record.getType();
        r.put("id", String.valueOf(record.getID()));
        r.put("kind", type == SigType.Sign ? "signature" : "seal");
        String defect = alteredFile(reader, rl, sig, covered);
        byte[] signatureXml = Files.readAllBytes(sigFile);
        byte[] signedValue = Files.readAllBytes(rl.getFile(sig.getSignedValue()));
        Signer signer = type == SigType.Sign ? gbt35275(signedValue) : seal(signedValue, r);
        r.put("signer", Certificates.name(signer.cert.getSubjectX500Principal().getEncoded()));
        r.put("issuer", Certificates.name(signer.cert.getIssuerX500Principal().getEncoded()));
        r.put("algorithm", signer.algorithm);
        if (signer.time != null) {
            r.put("signed_at", Certificates.iso(signer.time));
        }
        try {
            signer.validator.validate(type, sig.getSignedInfo().getSignatureMethod(), signatureXml,
                    signedValue);
        } catch (GeneralSecurityException | IllegalArgumentException bad) {
            defect = defect.isEmpty() ? "the signature value does not verify (" + bad.getMessage() + ")"
                    : defect;
        }
        if (defect.isEmpty()) {
            defect = signer.sealDefect;
        }
        r.put("intact", defect.isEmpty());
        r.put("defect", defect);
        if (!anchors.isEmpty()) {
            String problem = Certificates.chainProblem(signer.cert, anchors);
            r.put("trusted", problem.isEmpty());
            r.put("chain_problem", problem);
        }
        return r;
    }

    /** The protected files whose digests differ, as "… altered"; "" if none. */
    private static String alteredFile(
            OFDReader reader, ResourceLocator rl, Signature sig, Set<String> covered)
            throws Exception {
        References refs = sig.getSignedInfo().getReferences();
        MessageDigest md = MessageDigest.getInstance(refs.getCheckMethod(), Certificates.BC);
        List<String> altered = new ArrayList<>();
        for (Reference ref : refs.getReferences()) {
            ST_Loc loc = ref.getFileRef();
            Path file = rl.getFile(loc);
            covered.add(absolute(file, reader));
            if (!Arrays.equals(md.digest(Files.readAllBytes(file)), ref.getCheckValue())) {
                altered.add(loc.getLoc());
            }
        }
        return altered.isEmpty() ? ""
                : String.join(", ", altered) + " altered after signing (digest differs)";
    }

    /** Who signed, with what, and the validator for the signature value. */
    record Signer(
            X509Certificate cert,
            String algorithm,
            Date time,
            SignedDataValidateContainer validator,
            String sealDefect) {}

    private static Signer seal(byte[] signedValue, Map<String, Object> r) throws Exception {
        SESVersionHolder v = VersionParser.parseSES_SignatureVersion(signedValue);
        if (v.getVersion() == SESVersion.v4) {
            SES_Signature ses = SES_Signature.getInstance(v.getObjSeq());
            TBS_Sign toSign = ses.getToSign();
            SESeal eseal = toSign.getEseal();
            SES_ESPropertyInfo property = eseal.geteSealInfo().getProperty();
            X509Certificate cert = Certificates.certificate(ses.getCert().getOctets());
            Date time = toSign.getTimeInfo().getDate();
            r.put("seal", property.getName().getString());
            r.put("standard", "GB/T 38540");
            return new Signer(cert, Certificates.algorithm(ses.getSignatureAlgID().getId()), time,
                    new SESV4ValidateContainer(), sealDefect(eseal, property, cert, time));
        }
        if (v.getVersion() == SESVersion.v1) {
            var ses = org.ofdrw.gm.ses.v1.SES_Signature.getInstance(v.getObjSeq());
            var toSign = ses.getToSign();
            r.put("seal", toSign.getEseal().getEsealInfo().getProperty().getName().getString());
            r.put("standard", "GM/T 0031");
            X509Certificate cert = Certificates.certificate(toSign.getCert().getOctets());
            return new Signer(cert, Certificates.algorithm(toSign.getSignatureAlgorithm().getId()), null,
                    new SESV1ValidateContainer(), "");
        }
        throw new GeneralSecurityException("an electronic seal of a version this verifier does not know");
    }

    /** GB/T 38540 7.4: the seal signed by its maker, listing the signer, valid when used. */
    private static String sealDefect(
            SESeal eseal, SES_ESPropertyInfo property, X509Certificate signer, Date time)
            throws Exception {
        X509Certificate maker = Certificates.certificate(eseal.getCert().getOctets());
        java.security.Signature check =
                java.security.Signature.getInstance(eseal.getSignAlgID().getId(), Certificates.BC);
        check.initVerify(maker);
        check.update(eseal.geteSealInfo().getEncoded("DER"));
        if (!check.verify(eseal.getSignedValue().getBytes())) {
            return "the seal " + property.getName().getString() + " is not signed by its maker";
        }
        SES_CertList list = property.getCertList();
        CertInfoList certs = list == null ? null : list.getCerts();
        if (certs != null) {
            boolean listed = false;
            for (ASN1Encodable c : ASN1Sequence.getInstance(certs.toASN1Primitive())) {
                byte[] der = org.bouncycastle.asn1.ASN1OctetString.getInstance(c).getOctets();
                listed |= Arrays.equals(der, signer.getEncoded());
            }
            if (!listed) {
                return "the signer's certificate is not one the seal "
                        + property.getName().getString() + " lists";
            }
        }
        Date start = property.getValidStart().getDate();
        Date end = property.getValidEnd().getDate();
        if (time.before(start) || time.after(end)) {
            return "the seal " + property.getName().getString() + " was used at " + Certificates.iso(time)
                    + ", outside its validity (" + Certificates.iso(start) + " to " + Certificates.iso(end) + ")";
        }
        return "";
    }

    private static Signer gbt35275(byte[] signedValue) throws Exception {
        ContentInfo info = ContentInfo.getInstance(signedValue);
        SignedData data = SignedData.getInstance(info.getContent());
        ASN1Encodable first = data.getCertificates().getObjectAt(0);
        X509Certificate cert = Certificates.certificate(first.toASN1Primitive().getEncoded("DER"));
        return new Signer(cert, Certificates.algorithm(cert.getSigAlgOID()), null,
                new GBT35275ValidateContainer(), "");
    }
}
