package io.regcast.gateway;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.Utf8FrameValidator;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The first request on a connection. An upgrade to a declared gateway path becomes a WebSocket
 * (101 with {@code X-Yc-Apigateway-Websocket-Connection-Id}; {@code regcast.v1} when the client
 * offers it); a GET accepting {@code text/event-stream} becomes a Server-Sent Events stream (200,
 * same header, CORS by the gateway's allowed origins); an OPTIONS is the browser's CORS preflight.
 * Anything else gets a plain HTTP answer (404 unknown gateway or path, 426 not an upgrade, 405
 * not a GET) and the connection ends.
 */
final class HandshakeHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
  static final String CONNECTION_ID_HEADER = "X-Yc-Apigateway-Websocket-Connection-Id";
  static final String SUBPROTOCOL = "regcast.v1";
  static final String LAST_EVENT_ID = "Last-Event-ID";
  /** How long a browser's {@code EventSource} waits before it reconnects. */
  static final long RETRY_MILLIS = 2000;

  /** How long a refused client is asked to wait before it tries again. */
  static final String RETRY_AFTER_SECONDS = "1";

  private final ServerContext context;
  private final WebSocketDecoderConfig decoderConfig;
  /** Why this connection may not stay (answered to its request), or ALLOWED. */
  private ConnectionLimits.Verdict admission = ConnectionLimits.Verdict.ALLOWED;
  private ScheduledFuture<?> handshakeTimer;

  HandshakeHandler(ServerContext context) {
    this.context = context;
    this.decoderConfig =
        WebSocketDecoderConfig.newBuilder()
            .maxFramePayloadLength(context.settings().maxFrameSize())
            .expectMaskedFrames(true)
            .allowMaskMismatch(false)
            .allowExtensions(false)
            .closeOnProtocolViolation(true)
            .withUTF8Validator(true)
            .build();
  }

  /**
   * Counts the connection against the limits (a refused one is told so once its request is in)
   * and gives it the handshake timeout to send a complete request.
   */
  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    if (ctx.channel().remoteAddress() instanceof InetSocketAddress remote) {
      InetAddress address = remote.getAddress();
      admission = context.limits().accepted(address);
      if (admission == ConnectionLimits.Verdict.ALLOWED) {
        ctx.channel().closeFuture().addListener(closed -> context.limits().closed(address));
      } else {
        context.metrics().connectionRefused(admission == ConnectionLimits.Verdict.NODE_FULL);
      }
    }
    handshakeTimer = ctx.executor().schedule(() -> {
      context.metrics().handshakeTimedOut();
      ctx.close();
    }, context.settings().limits().handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
    super.channelActive(ctx);
  }

  /** The request came and was answered (the connection closes), or a connection handler took over. */
  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cancelHandshakeTimer();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    cancelHandshakeTimer();
    super.channelInactive(ctx);
  }

  private void cancelHandshakeTimer() {
    if (handshakeTimer != null) {
      handshakeTimer.cancel(false);
    }
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    cancelHandshakeTimer();
    if (admission != ConnectionLimits.Verdict.ALLOWED) {
      refuse(ctx, admission);
      return;
    }
    if (!request.decoderResult().isSuccess()) {
      answer(ctx, HttpResponseStatus.BAD_REQUEST, "malformed HTTP request", HttpHeaders.EMPTY_HEADERS);
      return;
    }
    QueryStringDecoder uri = new QueryStringDecoder(request.uri());
    String path = uri.path();
    Optional<PathKey> target = context.directory().resolve(request.headers().get(HttpHeaderNames.HOST), path);
    if (target.isEmpty()) {
      answer(ctx, HttpResponseStatus.NOT_FOUND, "no gateway WebSocket path at " + path, HttpHeaders.EMPTY_HEADERS);
      return;
    }
    PathKey key = target.get();
    boolean upgrade = request.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
    if (!upgrade && request.method().equals(HttpMethod.OPTIONS)) {
      preflight(ctx, key, request);
      return;
    }
    if (!request.method().equals(HttpMethod.GET)) {
      answer(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "open a WebSocket with GET", HttpHeaders.EMPTY_HEADERS);
      return;
    }
    String lastEventId = lastEventId(request, uri);
    if (!upgrade) {
      if (request.headers().get(HttpHeaderNames.ACCEPT, "").contains("text/event-stream")) {
        openEventStream(ctx, request, uri, key, lastEventId);
        return;
      }
      FullHttpResponse response = response(HttpResponseStatus.UPGRADE_REQUIRED,
          "this path only serves WebSocket connections (or Server-Sent Events with Accept: text/event-stream)",
          HttpHeaders.EMPTY_HEADERS);
      response.headers().set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    // A browser's page from an origin the gateway does not list may not open it (no Origin: not a browser).
    if (corsOrRefuse(ctx, key, request) == null || !authorized(ctx, request, uri, key, HttpHeaders.EMPTY_HEADERS)) {
      return;
    }
    boolean v1 = offers(request, SUBPROTOCOL);
    if (lastEventId != null && !v1) {
      answer(ctx, HttpResponseStatus.BAD_REQUEST,
          "lastEventId / Last-Event-ID (resume) needs the " + SUBPROTOCOL + " subprotocol (Sec-WebSocket-Protocol: "
              + SUBPROTOCOL + "), or Server-Sent Events (Accept: text/event-stream)",
          HttpHeaders.EMPTY_HEADERS);
      return;
    }
    WebSocketServerHandshaker handshaker =
        new WebSocketServerHandshakerFactory(path, v1 ? SUBPROTOCOL : null, decoderConfig).newHandshaker(request);
    if (handshaker == null) {
      WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel())
          .addListener(ChannelFutureListener.CLOSE);
      return;
    }
    Connection connection = newConnection(ctx, key, request);
    WebSocketHandler handler =
        new WebSocketHandler(connection, v1 ? Encoding.V1 : Encoding.PLAIN, lastEventId, context);
    // Installed before the 101 goes out: frames that follow it at once must find their handler.
    ctx.pipeline().replace(this, "ws-connection", handler);
    handler.registered();
    HttpHeaders headers = new DefaultHttpHeaders().set(CONNECTION_ID_HEADER, connection.id);
    handshaker
        .handshake(ctx.channel(), request, headers, ctx.channel().newPromise())
        .addListener(
            future -> {
              if (future.isSuccess()) {
                ctx.pipeline().addAfter("wsdecoder", "ws-utf8", new Utf8FrameValidator(true));
                handler.opened();
              } else {
                ctx.channel().close();
              }
            });
  }

  /**
   * {@code 200 text/event-stream}, chunked, then the HTTP codec leaves: from there on every write
   * is a whole pre-encoded chunk (one buffer shared by every event stream of the path).
   */
  private void openEventStream(
      ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder uri, PathKey key, String lastEventId) {
    HttpHeaders cors = corsOrRefuse(ctx, key, request);
    if (cors == null) {
      return;
    }
    if (!authorized(ctx, request, uri, key, cors)) {
      return;
    }
    Connection connection = newConnection(ctx, key, request);
    EventStreamHandler handler = new EventStreamHandler(connection, lastEventId, context);
    Channel channel = ctx.channel();
    ctx.pipeline().replace(this, "sse-connection", handler);
    handler.registered();
    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    head.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream")
        .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
        .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED)
        .set(CONNECTION_ID_HEADER, connection.id)
        .add(cors);
    channel.write(head, channel.voidPromise());
    channel.pipeline().remove("aggregator");
    channel.pipeline().remove("http");
    channel.writeAndFlush(EventChunks.retry(channel.alloc(), RETRY_MILLIS), channel.voidPromise());
    handler.opened();
  }

  private void refuse(ChannelHandlerContext ctx, ConnectionLimits.Verdict why) {
    boolean nodeFull = why == ConnectionLimits.Verdict.NODE_FULL;
    FullHttpResponse response = response(
        nodeFull ? HttpResponseStatus.SERVICE_UNAVAILABLE : HttpResponseStatus.TOO_MANY_REQUESTS,
        nodeFull
            ? "this node holds its most connections (regcast.gateway.max-connections); try again, or another node"
            : "your address holds its most connections to this node (regcast.gateway.max-connections-per-ip)",
        HttpHeaders.EMPTY_HEADERS);
    response.headers().set(HttpHeaderNames.RETRY_AFTER, RETRY_AFTER_SECONDS);
    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }

  /** The CORS headers for the request's origin; null when it may not read the gateway (answered 403). */
  private HttpHeaders corsOrRefuse(ChannelHandlerContext ctx, PathKey key, FullHttpRequest request) {
    String origin = request.headers().get(HttpHeaderNames.ORIGIN);
    HttpHeaders cors = cors(key, origin);
    if (cors == null) {
      answer(ctx, HttpResponseStatus.FORBIDDEN,
          "origin " + origin + " may not read gateway " + key.gatewayId() + " (not in its allowedOrigins)",
          HttpHeaders.EMPTY_HEADERS);
    }
    return cors;
  }

  /** A browser asks whether its page may read the event stream. */
  private void preflight(ChannelHandlerContext ctx, PathKey key, FullHttpRequest request) {
    HttpHeaders cors = corsOrRefuse(ctx, key, request);
    if (cors == null) {
      return;
    }
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT);
    response.headers()
        .add(cors)
        .set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, LAST_EVENT_ID + ", Authorization")
        .set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "GET")
        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }

  /**
   * The CORS headers an answer to {@code origin} carries, or null when the gateway's allowed
   * origins exclude it. A request without Origin is not from a browser's page: CORS does not apply.
   */
  private HttpHeaders cors(PathKey key, String origin) {
    List<String> allowed = context.directory().allowedOrigins(key.gatewayId());
    HttpHeaders headers = new DefaultHttpHeaders();
    if (allowed.contains("*")) {
      headers.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    } else if (origin != null && !allowed.contains(origin)) {
      return null;
    } else {
      if (origin != null) {
        headers.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
      }
      headers.set(HttpHeaderNames.VARY, HttpHeaderNames.ORIGIN);
    }
    return headers.set(HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, CONNECTION_ID_HEADER);
  }

  /** The gateway's API key check; false when it answered 401 or 403 (with {@code extra} headers). */
  private boolean authorized(
      ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder uri, PathKey key, HttpHeaders extra) {
    if (!context.directory().requiresKey(key.gatewayId())) {
      return true;
    }
    List<String> queryKey = uri.parameters().get("apiKey");
    String authorization = request.headers().get(HttpHeaderNames.AUTHORIZATION);
    switch (context.authorizer().check(
        key.gatewayId(), authorization, queryKey == null || queryKey.isEmpty() ? null : queryKey.get(0))) {
      case UNAUTHENTICATED -> {
        FullHttpResponse response = response(HttpResponseStatus.UNAUTHORIZED,
            "this gateway needs an API key: Authorization: Bearer <key>, or ?apiKey=<key>", extra);
        response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        return false;
      }
      case FORBIDDEN -> {
        answer(ctx, HttpResponseStatus.FORBIDDEN, "this key's owner may not view gateway " + key.gatewayId(), extra);
        return false;
      }
      default -> {
        return true;
      }
    }
  }

  private Connection newConnection(ChannelHandlerContext ctx, PathKey key, FullHttpRequest request) {
    return new Connection(
        ConnectionIds.next(context.nodeToken()),
        key.gatewayId(),
        key.path(),
        sourceIp(ctx),
        request.headers().get(HttpHeaderNames.USER_AGENT, ""),
        ctx.channel());
  }

  /**
   * The id a client resumes after: the {@code Last-Event-ID} header first (a browser's {@code
   * EventSource} sends its newest on reconnect, while its URL keeps the first one), else {@code
   * ?lastEventId=}; null when it does not resume.
   */
  private static String lastEventId(FullHttpRequest request, QueryStringDecoder uri) {
    String header = request.headers().get(LAST_EVENT_ID);
    if (header != null) {
      return header;
    }
    List<String> fromQuery = uri.parameters().get("lastEventId");
    return fromQuery == null || fromQuery.isEmpty() ? null : fromQuery.get(0);
  }

  private static boolean offers(FullHttpRequest request, String subprotocol) {
    for (String offered : request.headers().getAll(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL)) {
      for (String one : offered.split(",")) {
        if (one.trim().equals(subprotocol)) {
          return true;
        }
      }
    }
    return false;
  }

  private static String sourceIp(ChannelHandlerContext ctx) {
    return ctx.channel().remoteAddress() instanceof InetSocketAddress address
        ? address.getAddress().getHostAddress()
        : "";
  }

  private static void answer(ChannelHandlerContext ctx, HttpResponseStatus status, String text, HttpHeaders extra) {
    ctx.writeAndFlush(response(status, text, extra)).addListener(ChannelFutureListener.CLOSE);
  }

  private static FullHttpResponse response(HttpResponseStatus status, String text, HttpHeaders extra) {
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, status, Unpooled.copiedBuffer(text + "\n", StandardCharsets.UTF_8));
    response.headers().add(extra);
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
    HttpUtil.setContentLength(response, response.content().readableBytes());
    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    return response;
  }
}
