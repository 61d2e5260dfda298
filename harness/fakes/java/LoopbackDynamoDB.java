// Starts AWS's DynamoDB Local (in memory, one database whatever the credentials and region, telemetry off) listening on 127.0.0.1 only, on a port the
// system picks, and prints "LISTENING <port>". DynamoDB Local has no option for the address it binds
// (it listens on every interface), so this sets the host of its Jetty connector before it starts.
// It stops when its standard input closes: when the Node.js process that started it exits, however.
// Run by harness/dynamodb-local.ts as a single-file Java program (java 11+), on the jar's classpath.
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class LoopbackDynamoDB {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy =
        ServerRunner.createServerFromCommandLineArgs(new String[] {"-inMemory", "-sharedDb", "-disableTelemetry", "-port", "8000"});
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    for (Connector connector : server.getConnectors()) {
      ServerConnector http = (ServerConnector) connector;
      http.setHost("127.0.0.1");
      http.setPort(0);
    }
    proxy.start();
    System.out.println("LISTENING " + ((ServerConnector) server.getConnectors()[0]).getLocalPort());
    System.out.flush();
    while (System.in.read() != -1) {
      // Wait for the parent to close standard input.
    }
    proxy.stop();
    System.exit(0);
  }
}
