package io.regcast.testing;

import com.typesafe.config.ConfigFactory;
import io.regcast.node.Node;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A real node (cluster, sharding, H2 journal in a temp dir, HTTP on a free port) started once for
 * all test classes that use this extension and stopped, with its files removed, when the run ends.
 * Tests get an {@link ApiClient} pointed at it as a parameter.
 */
public final class SharedNode implements ParameterResolver {
  /** The administrator's key the shared node is bootstrapped with. */
  public static final String ADMIN_KEY = "test-admin-key-0123456789abcdef";

  private static final class Resource implements ExtensionContext.Store.CloseableResource {
    final Path dataDir;
    final Node node;

    Resource() throws Exception {
      dataDir = Files.createTempDirectory("regcast-test-");
      node =
          Node.start(
              ConfigFactory.parseMap(
                  Map.of(
                      "regcast.data-dir", dataDir.toString(),
                      "regcast.http.port", 0,
                      "regcast.cluster.port", 0,
                      "regcast.gateway.port", 0,
                      "regcast.management.port", 0,
                      "regcast.iam.admin-key", ADMIN_KEY)));
    }

    @Override
    public void close() throws Exception {
      node.close();
      try (Stream<Path> files = Files.walk(dataDir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  static Node node(ExtensionContext context) {
    return context
        .getRoot()
        .getStore(ExtensionContext.Namespace.GLOBAL)
        .getOrComputeIfAbsent(
            SharedNode.class,
            key -> {
              try {
                return new Resource();
              } catch (Exception e) {
                throw new IllegalStateException("test node failed to start", e);
              }
            },
            Resource.class)
        .node;
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == ApiClient.class || type == Node.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    Node node = node(context);
    if (parameter.getParameter().getType() == Node.class) {
      return node;
    }
    return new ApiClient("http://127.0.0.1:" + node.httpAddress().getPort(), ADMIN_KEY);
  }
}
