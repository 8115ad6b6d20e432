package aap.devkit;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.FileReader;
import java.io.FileWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Security;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Date;
import java.util.UUID;
import javax.imageio.ImageIO;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1GeneralizedTime;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.gm.GMObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.ofdrw.gm.ses.v1.SES_Header;
import org.ofdrw.gm.ses.v4.SES_CertList;
import org.ofdrw.gm.ses.v4.SES_ESPropertyInfo;
import org.ofdrw.gm.ses.v1.SES_ESPictrueInfo;
import org.ofdrw.gm.ses.v4.SES_SealInfo;
import org.ofdrw.gm.ses.v4.SESeal;
import org.ofdrw.reader.OFDReader;
import org.ofdrw.sign.OFDSigner;
import org.ofdrw.sign.SignMode;
import org.ofdrw.sign.signContainer.SESV4Container;
import org.ofdrw.sign.stamppos.NormalStampPos;

/**
 * Test tooling, never the product: an SM2 authority, OFDs sealed under it (GB/T 38540 v4
 * seals, made with ofdrw and BouncyCastle) and SM2 CMS signatures (for PDFs), so that the
 * tests verify signatures they made.
 *
 * <pre>
 * Sm2Signer authority DIR NAME             an SM2 CA in DIR: ca.pem, ca.key
 * Sm2Signer seal DIR IN OUT SEAL SIGNER ORG [DAYS]
 *     IN sealed into OUT with a seal named SEAL, made by DIR's CA, for a signer certificate
 *     (CN SIGNER, O ORG) the CA issues; the seal valid DAYS days from now (default 365; a
 *     negative DAYS makes a seal whose validity ended before it is used)
 * Sm2Signer cms DIR DATA OUT SIGNER ORG
 *     a detached CMS SignedData over DATA (SM2 with SM3, signing time, the signer's
 *     certificate), for a signer certificate DIR's CA issues, written to OUT (DER)
 * </pre>
 */
public final class Sm2Signer {
    private static final BouncyCastleProvider BC = new BouncyCastleProvider();

    private Sm2Signer() {}

    public static void main(String[] args) throws Exception {
        Security.addProvider(BC);
        if (args.length == 3 && args[0].equals("authority")) {
            authority(Paths.get(args[1]), args[2]);
        } else if (args.length >= 7 && args[0].equals("seal")) {
            int days = args.length > 7 ? Integer.parseInt(args[7]) : 365;
            seal(Paths.get(args[1]), Paths.get(args[2]), Paths.get(args[3]), args[4], args[5], args[6], days);
        } else if (args.length == 6 && args[0].equals("cms")) {
            cms(Paths.get(args[1]), Paths.get(args[2]), Paths.get(args[3]), args[4], args[5]);
        } else {
            System.err.println("usage: Sm2Signer authority DIR NAME | seal DIR IN OUT SEAL SIGNER ORG [DAYS]");
            System.exit(2);
        }
    }

    private static KeyPair sm2() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC", BC);
        g.initialize(new ECGenParameterSpec("sm2p256v1"));
        return g.generateKeyPair();
    }

    private static X509Certificate issue(
            X500Name subject, KeyPair subjectKeys, X500Name issuer, PrivateKey issuerKey, boolean ca)
            throws Exception {
        Date now = new Date(System.currentTimeMillis() - 3_600_000L);
        Date end = new Date(now.getTime() + 3L * 365 * 86_400_000L);
        var builder = new JcaX509v3CertificateBuilder(
                issuer, new BigInteger(64, new java.security.SecureRandom()), now, end, subject,
                subjectKeys.getPublic());
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(
                ca ? KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature
                        : KeyUsage.digitalSignature | KeyUsage.nonRepudiation));
        var signer = new JcaContentSignerBuilder("SM3withSM2").setProvider(BC).build(issuerKey);
        return new JcaX509CertificateConverter().setProvider(BC).getCertificate(builder.build(signer));
    }

    private static void authority(Path dir, String name) throws Exception {
        Files.createDirectories(dir);
        KeyPair keys = sm2();
        X500Name subject = new X500Name("CN=" + name + ",O=" + name + ",C=CN");
        X509Certificate cert = issue(subject, keys, subject, keys.getPrivate(), true);
        write(dir.resolve("ca.pem"), cert);
        write(dir.resolve("ca.key"), new JcaPKCS8Generator(keys.getPrivate(), null));
    }

    /** A signer: its keys, and the certificate DIR's CA issues it. */
    private record Signer(KeyPair keys, X509Certificate cert, X509Certificate ca, PrivateKey caKey) {}

    private static Signer signer(Path dir, String signerName, String org) throws Exception {
        X509Certificate ca = new JcaX509CertificateConverter().setProvider(BC)
                .getCertificate((X509CertificateHolder) read(dir.resolve("ca.pem")));
        PrivateKey caKey = new JcaPEMKeyConverter().setProvider(BC)
                .getPrivateKey((PrivateKeyInfo) read(dir.resolve("ca.key")));
        KeyPair keys = sm2();
        X509Certificate cert = issue(new X500Name("CN=" + signerName + ",O=" + org + ",C=CN"),
                keys, X500Name.getInstance(ca.getSubjectX500Principal().getEncoded()), caKey, false);
        return new Signer(keys, cert, ca, caKey);
    }

    private static void cms(Path dir, Path data, Path out, String signerName, String org)
            throws Exception {
        Signer s = signer(dir, signerName, org);
        var generator = new CMSSignedDataGenerator();
        var contentSigner = new JcaContentSignerBuilder("SM3withSM2").setProvider(BC).build(s.keys().getPrivate());
        var digests = new JcaDigestCalculatorProviderBuilder().setProvider(BC).build();
        generator.addSignerInfoGenerator(
                new JcaSignerInfoGeneratorBuilder(digests).build(contentSigner, s.cert()));
        generator.addCertificate(new JcaX509CertificateHolder(s.cert()));
        CMSSignedData signed = generator.generate(new CMSProcessableByteArray(Files.readAllBytes(data)), false);
        Files.write(out, signed.getEncoded("DER"));
    }

    private static void seal(
            Path dir, Path in, Path out, String sealName, String signerName, String org, int days)
            throws Exception {
        Signer s = signer(dir, signerName, org);
        X509Certificate ca = s.ca();
        PrivateKey caKey = s.caKey();
        KeyPair keys = s.keys();
        X509Certificate signer = s.cert();

        ASN1EncodableVector listed = new ASN1EncodableVector(1);
        listed.add(new DEROctetString(signer.getEncoded()));
        long now = System.currentTimeMillis();
        Date start = new Date(days >= 0 ? now - 3_600_000L : now + (long) days * 86_400_000L * 2);
        Date end = new Date(now + (long) days * 86_400_000L);
        SES_ESPropertyInfo property = new SES_ESPropertyInfo()
                .setType(new ASN1Integer(1))
                .setName(new DERUTF8String(sealName))
                .setCertListType(SES_ESPropertyInfo.CertListType)
                .setCertList(SES_CertList.getInstance(SES_ESPropertyInfo.CertListType, new DERSequence(listed)))
                .setCreateDate(new ASN1GeneralizedTime(new Date(start.getTime())))
                .setValidStart(new ASN1GeneralizedTime(start))
                .setValidEnd(new ASN1GeneralizedTime(end));
        SES_SealInfo info = new SES_SealInfo()
                .setHeader(new SES_Header(SES_Header.V4, new DERIA5String("AAP-TEST")))
                .setEsID(new DERIA5String(UUID.randomUUID().toString().replace("-", "")))
                .setProperty(property)
                .setPicture(new SES_ESPictrueInfo().setType("PNG").setData(stamp()).setWidth(40).setHeight(40));
        java.security.Signature maker = java.security.Signature.getInstance("SM3withSM2", BC);
        maker.initSign(caKey);
        maker.update(info.getEncoded("DER"));
        SESeal seal = new SESeal()
                .seteSealInfo(info)
                .setCert(ca)
                .setSignAlgID(GMObjectIdentifiers.sm2sign_with_sm3)
                .setSignedValue(maker.sign());

        try (OFDReader reader = new OFDReader(in); OFDSigner ofdSigner = new OFDSigner(reader, out)) {
            ofdSigner.setSignMode(SignMode.ContinueSign);
            ofdSigner.setSignContainer(new SESV4Container(keys.getPrivate(), seal, signer));
            ofdSigner.addApPos(new NormalStampPos(1, 120, 10, 40, 40));
            ofdSigner.exeSign();
        }
    }

    /** A red ring, the seal's picture. */
    private static byte[] stamp() throws Exception {
        BufferedImage image = new BufferedImage(80, 80, BufferedImage.TYPE_INT_ARGB);
        var g = image.createGraphics();
        g.setColor(Color.RED);
        g.setStroke(new java.awt.BasicStroke(4));
        g.drawOval(4, 4, 72, 72);
        g.dispose();
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(image, "PNG", png);
        return png.toByteArray();
    }

    private static Object read(Path pem) throws Exception {
        try (PEMParser parser = new PEMParser(new FileReader(pem.toFile()))) {
            return parser.readObject();
        }
    }

    private static void write(Path path, Object pem) throws Exception {
        try (JcaPEMWriter writer = new JcaPEMWriter(new FileWriter(path.toFile()))) {
            writer.writeObject(pem);
        }
    }
}
