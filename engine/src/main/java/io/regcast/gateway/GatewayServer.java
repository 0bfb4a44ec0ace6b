package io.regcast.gateway;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.regcast.metrics.Metrics;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's listener (WebSocket and Server-Sent Events): Netty with native epoll where
 * available (NIO otherwise), one boss thread and {@code eventLoopThreads} workers. {@link
 * #broadcast(PathKey, long, byte[], long, long)} is the data-plane entry point: one message,
 * encoded once per encoding, to every local connection of a path, and kept in the path's
 * in-memory tail for the connections that resume.
 */
public final class GatewayServer {
  private static final Logger log = LoggerFactory.getLogger(GatewayServer.class);
  /** Netty's own write buffer per connection: above it a connection counts as not writable. */
  private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(32 * 1024, 64 * 1024);
  /** {@code regcast.history.memory-tail}'s default. */
  public static final int DEFAULT_MEMORY_TAIL = 1000;
  /** {@code regcast.history.memory-tail-linger}'s default. */
  public static final Duration DEFAULT_TAIL_LINGER = Duration.ofMinutes(10);
  /** Deserted paths are looked for at least this often (more often with a shorter linger). */
  private static final Duration SWEEP_AT_MOST_EVERY = Duration.ofSeconds(30);
  private static final StreamHistory NO_HISTORY = (path, lastEventId, target) -> target.unavailable("no history");

  private final GatewaySettings settings;
  private final LocalConnections connections;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final ServerBootstrap bootstrap;
  private final boolean epoll;
  /** Null until {@link #listen}. */
  private volatile Channel serverChannel;

  private GatewayServer(
      GatewaySettings settings, GatewayDirectory directory, String nodeToken, ConnectAuthorizer authorizer,
      StreamHistory history, int memoryTail, Duration tailLinger, Metrics metrics) {
    this.settings = settings;
    this.epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    Class<? extends ServerChannel> channelType =
        epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    this.boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("gateway-accept"), io);
    this.workers =
        new MultiThreadIoEventLoopGroup(settings.eventLoopThreads(), new DefaultThreadFactory("gateway-io"), io);
    this.connections = new LocalConnections(metrics, directory, memoryTail, tailLinger);
    Duration sweepEvery = tailLinger.compareTo(SWEEP_AT_MOST_EVERY) < 0 ? tailLinger : SWEEP_AT_MOST_EVERY;
    boss.scheduleAtFixedRate(connections::sweep, sweepEvery.toMillis(), sweepEvery.toMillis(), TimeUnit.MILLISECONDS);
    ServerContext context = new ServerContext(settings, directory, connections, history, metrics, nodeToken, authorizer,
        new ConnectionLimits(settings.limits()));
    this.bootstrap =
        new ServerBootstrap()
            .group(boss, workers)
            .channel(channelType)
            .option(ChannelOption.SO_BACKLOG, 4096)
            .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast("http", new HttpServerCodec(4096, 8192, 8192))
                        .addLast("aggregator", new HttpObjectAggregator(8192))
                        .addLast("handshake", new HandshakeHandler(context));
                  }
                });
  }

  /**
   * Binds a listener whose connections may not resume beyond its in-memory tails (no history) and
   * need no key check; blocks until bound.
   */
  public static GatewayServer start(GatewaySettings settings, GatewayDirectory directory, String nodeToken, Metrics metrics)
      throws InterruptedException {
    return create(settings, directory, nodeToken, ConnectAuthorizer.ALLOW_ALL, NO_HISTORY, DEFAULT_MEMORY_TAIL,
        DEFAULT_TAIL_LINGER, metrics).listen();
  }

  /**
   * The gateway, not listening yet ({@link #listen}): the node broadcasts to it from the start, and
   * binds it once it knows its gateways — a client that came earlier would be told 404 for a path
   * that exists (which a browser's EventSource takes as final), rather than find no listener and
   * retry. {@code history} answers the resumes the in-memory tails cannot; {@code memoryTail} is
   * how many messages each path's tail keeps at most (fewer when its gateway keeps fewer), {@code
   * tailLinger} how long after the path's last connection here left.
   */
  public static GatewayServer create(
      GatewaySettings settings, GatewayDirectory directory, String nodeToken, ConnectAuthorizer authorizer,
      StreamHistory history, int memoryTail, Duration tailLinger, Metrics metrics) {
    return new GatewayServer(settings, directory, nodeToken, authorizer, history, memoryTail, tailLinger, metrics);
  }

  /** Binds the listener; blocks until bound (start-up only). */
  public GatewayServer listen() throws InterruptedException {
    try {
      serverChannel = bootstrap.bind(settings.host(), settings.port()).sync().channel();
    } catch (Exception e) {
      boss.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      throw new IllegalStateException(
          "cannot listen for WebSocket clients on " + settings.host() + ":" + settings.port() + " ("
              + e.getMessage() + "); set regcast.gateway.port / REGCAST_GATEWAY_PORT to a free port", e);
    }
    log.info("Gateway listening on ws://{}:{} ({})", settings.host(), address().getPort(), epoll ? "epoll" : "nio");
    return this;
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) serverChannel.localAddress();
  }

  /**
   * Sends {@code payload} as one text or binary message outside the path's stream (no position)
   * to the plain WebSockets of {@code key}: regcast.v1 and event-stream connections only get
   * positioned messages. {@code ingestedAtMillis} (epoch; 0 = none) is when the ingest request of
   * its oldest event was taken, for the ingest-to-socket latency.
   */
  public void broadcast(PathKey key, boolean text, byte[] payload, long ingestedAtMillis) {
    connections.broadcast(key, Frames.encode(PooledByteBufAllocator.DEFAULT, text, payload), ingestedAtMillis);
  }

  /**
   * Sends message {@code position} of a path's stream (a text message: the reference message) to
   * every local connection of {@code key} and keeps it in the path's tail. The node calls it in
   * position order, without holes (a missing position is fetched from the path's log first); a
   * jump (after an unrecoverable loss) starts the tail over. {@code appendedAtMillis} (epoch) is
   * when the log stored it, which the tail's age limit goes by.
   */
  public void broadcast(PathKey key, long position, byte[] payload, long appendedAtMillis, long ingestedAtMillis) {
    connections.broadcast(key, position, payload, appendedAtMillis, ingestedAtMillis);
  }

  /** How many messages this node keeps in memory for {@code key} (0 when it has no connection here). */
  public int tailSize(PathKey key) {
    return connections.tailSize(key);
  }

  /** The connections of one gateway on this node. */
  public List<ConnectionInfo> connectionsOf(String gatewayId) {
    return connections.ofGateway(gatewayId).stream().map(h -> h.connection.info()).toList();
  }

  public Optional<ConnectionInfo> connection(String id) {
    return Optional.ofNullable(connections.get(id)).map(h -> h.connection.info());
  }

  /** Sends one message to one connection; false when it is not on this node. */
  public boolean send(String connectionId, boolean text, byte[] payload) {
    ConnectionHandler handler = connections.get(connectionId);
    if (handler == null) {
      return false;
    }
    handler.send(text, payload);
    return true;
  }

  /** Closes one connection with {@code code} (an event stream just ends); false when it is not on this node. */
  public boolean disconnect(String connectionId, int code, String reason) {
    ConnectionHandler handler = connections.get(connectionId);
    if (handler == null) {
      return false;
    }
    handler.close(code, reason);
    return true;
  }

  /** Closes every connection of a gateway (it was deleted). */
  public void disconnectGateway(String gatewayId, String reason) {
    connections.ofGateway(gatewayId).forEach(h -> h.close(WebSocketCloseStatus.ENDPOINT_UNAVAILABLE.code(), reason));
  }

  /**
   * Stops accepting, closes every connection with 1001 (ends every event stream) and waits (up to the close grace) for the
   * clients to answer, then stops Netty's threads.
   */
  public void stop() {
    if (serverChannel != null) {
      serverChannel.close().syncUninterruptibly();
    }
    var open = List.copyOf(connections.all());
    open.forEach(h -> h.close(WebSocketCloseStatus.ENDPOINT_UNAVAILABLE.code(), "server shutting down"));
    long deadline = System.nanoTime() + settings.closeGrace().toNanos();
    for (ConnectionHandler h : open) {
      long left = deadline - System.nanoTime();
      if (left > 0) {
        h.connection.channel.closeFuture().awaitUninterruptibly(left, TimeUnit.NANOSECONDS);
      }
    }
    Duration quiet = Duration.ZERO;
    boss.shutdownGracefully(quiet.toMillis(), 2000, TimeUnit.MILLISECONDS);
    workers.shutdownGracefully(quiet.toMillis(), 2000, TimeUnit.MILLISECONDS).syncUninterruptibly();
    log.info("Gateway stopped ({} connections closed with 1001)", open.size());
  }
}
