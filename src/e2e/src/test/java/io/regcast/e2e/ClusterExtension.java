package io.regcast.e2e;

import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * {@code @ExtendWith(ClusterExtension.class)}: the test JVM's one {@link TestCluster}, started
 * before the first test that asks for it (a {@code TestCluster} parameter of a test, constructor
 * or {@code @BeforeAll} method) and shared by every test class that uses this extension; before
 * each test it is brought back to health (PostgreSQL up, every node relaunched if needed, all
 * ready and Up), so a test may kill, stop or restart nodes and PostgreSQL. JUnit closes it (kills
 * the nodes, stops PostgreSQL, deletes its files) when the JVM's tests are done.
 */
public final class ClusterExtension implements BeforeEachCallback, ParameterResolver {
  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(ClusterExtension.class);

  /** The shared cluster, started on first use. */
  public static TestCluster cluster(ExtensionContext context) {
    return context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent(
        TestCluster.class,
        key -> {
          try {
            return TestCluster.start();
          } catch (RuntimeException | Error e) {
            throw e;
          } catch (Exception e) {
            throw new IllegalStateException("the test cluster did not start: " + e, e);
          }
        },
        TestCluster.class);
  }

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    cluster(context).awaitHealthy(TestCluster.HEALTHY_DEADLINE);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == TestCluster.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return cluster(context);
  }
}
