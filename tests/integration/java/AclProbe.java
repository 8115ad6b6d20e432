// Tries, as each client configuration given, to create one ACL through Kafka's Java AdminClient
// (the tool an attacker on the host would use), and prints one line per configuration:
// "probe: created" or "probe: refused <exception>" (the client logs on stdout too). Run as a
// single-file program on the broker's classpath:
//   java -cp <kafka classpath> AclProbe.java TOPIC PRINCIPAL CONFIG.properties...
import java.io.FileReader;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class AclProbe {
    public static void main(String[] args) throws Exception {
        AclBinding grant = new AclBinding(
            new ResourcePattern(ResourceType.TOPIC, args[0], PatternType.LITERAL),
            new AccessControlEntry("User:" + args[1], "*", AclOperation.WRITE, AclPermissionType.ALLOW));
        for (int i = 2; i < args.length; i++) {
            Properties config = new Properties();
            try (FileReader in = new FileReader(args[i])) {
                config.load(in);
            }
            try (Admin admin = Admin.create(config)) {
                admin.createAcls(List.of(grant)).all().get();
                System.out.println("probe: created");
            } catch (ExecutionException e) {
                System.out.println("probe: refused " + e.getCause().getClass().getSimpleName());
            } catch (Exception e) {
                System.out.println("probe: refused " + e.getClass().getSimpleName());
            }
        }
    }
}
