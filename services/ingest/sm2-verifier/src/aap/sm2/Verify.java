package aap.sm2;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.Security;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What the archive verifies with BouncyCastle because pyHanko cannot: an OFD's seals and
 * signatures (GB/T 38540, {@link OfdSeals}) and a PDF's SM2 signatures ({@link PdfSignatures}).
 *
 * <pre>
 * Verify ofd FILE.ofd [ANCHORS.pem]
 * Verify cms SIGNED-BYTES CMS.der [ANCHORS.pem]
 * Verify --serve          the same requests, one per line, fields separated by tabs (an empty
 *                         last field: no anchors); one JSON answer per line, until input ends
 * </pre>
 *
 * A parsing worker keeps one running (--serve), so that each file does not pay for starting a
 * JVM. One request's fault is answered as {"unreadable": "why"}, never the next one's.
 */
public final class Verify {
    private Verify() {}

    public static void main(String[] args) throws Exception {
        Security.addProvider(Certificates.BC);
        if (args.length == 1 && args[0].equals("--serve")) {
            serve();
            return;
        }
        if (args.length < 2) {
            System.err.println("usage: Verify ofd FILE [ANCHORS] | cms DATA CMS [ANCHORS] | --serve");
            System.exit(2);
        }
        // ofdrw unpacks a package into a temporary folder: beside the file, in the folder the
        // caller made for this call and removes after it.
        System.setProperty("java.io.tmpdir", Paths.get(args[1]).toAbsolutePath().getParent().toString());
        System.out.println(answer(args));
    }

    static void serve() throws IOException {
        var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        var out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        for (String line; (line = in.readLine()) != null; ) {
            String reply;
            try {
                reply = answer(line.split("\t", -1));
            } catch (Throwable error) { // one request's fault, never the next one's
                reply = Json.object(Map.of("unreadable", Certificates.describe(error)));
            }
            out.println(reply);
            out.flush();
        }
    }

    static String answer(String[] request) throws Exception {
        String kind = request[0];
        int files = kind.equals("ofd") ? 1 : kind.equals("cms") ? 2 : -1;
        if (files < 0 || request.length < 1 + files) {
            throw new IllegalArgumentException("not a request: " + Arrays.toString(request));
        }
        boolean withAnchors = request.length > 1 + files && !request[1 + files].isEmpty();
        List<X509Certificate> anchors =
                withAnchors ? Certificates.readBundle(Path.of(request[1 + files])) : List.of();
        return kind.equals("ofd")
                ? OfdSeals.answer(Path.of(request[1]), anchors)
                : PdfSignatures.answer(Path.of(request[1]), Path.of(request[2]), anchors);
    }
}
