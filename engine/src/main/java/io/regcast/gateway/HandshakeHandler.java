package io.regcast.gateway;

import io.regcast.metrics.Metrics;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.Utf8FrameValidator;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.regcast.iam.ApiKeySecrets;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The first request on a connection: an upgrade to a declared gateway path becomes a WebSocket
 * (101 with {@code X-Yc-Apigateway-Websocket-Connection-Id}); anything else gets a plain HTTP
 * answer (404 unknown gateway or path, 426 not an upgrade, 405 not a GET) and the connection ends.
 */
final class HandshakeHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
  static final String CONNECTION_ID_HEADER = "X-Yc-Apigateway-Websocket-Connection-Id";

  private final GatewaySettings settings;
  private final GatewayDirectory directory;
  private final LocalConnections connections;
  private final Metrics metrics;
  private final String nodeToken;
  private final ConnectAuthorizer authorizer;
  private final WebSocketDecoderConfig decoderConfig;

  HandshakeHandler(
      GatewaySettings settings,
      GatewayDirectory directory,
      LocalConnections connections,
      Metrics metrics,
      String nodeToken,
      ConnectAuthorizer authorizer) {
    this.authorizer = authorizer;
    this.settings = settings;
    this.directory = directory;
    this.connections = connections;
    this.metrics = metrics;
    this.nodeToken = nodeToken;
    this.decoderConfig =
        WebSocketDecoderConfig.newBuilder()
            .maxFramePayloadLength(settings.maxFrameSize())
            .expectMaskedFrames(true)
            .allowMaskMismatch(false)
            .allowExtensions(false)
            .closeOnProtocolViolation(true)
            .withUTF8Validator(true)
            .build();
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    if (!request.decoderResult().isSuccess()) {
      answer(ctx, HttpResponseStatus.BAD_REQUEST, "malformed HTTP request");
      return;
    }
    QueryStringDecoder uri = new QueryStringDecoder(request.uri());
    String path = uri.path();
    Optional<PathKey> target = directory.resolve(request.headers().get(HttpHeaderNames.HOST), path);
    if (target.isEmpty()) {
      answer(ctx, HttpResponseStatus.NOT_FOUND, "no gateway WebSocket path at " + path);
      return;
    }
    if (!request.method().equals(HttpMethod.GET)) {
      answer(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "open a WebSocket with GET");
      return;
    }
    if (!request.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
      FullHttpResponse response = response(HttpResponseStatus.UPGRADE_REQUIRED, "this path only serves WebSocket connections");
      response.headers().set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    if (directory.requiresKey(target.get().gatewayId())) {
      switch (authorizer.check(target.get().gatewayId(), secret(request, uri))) {
        case UNAUTHENTICATED -> {
          FullHttpResponse response = response(HttpResponseStatus.UNAUTHORIZED,
              "this gateway needs an API key: Authorization: Bearer <key>, or ?apiKey=<key>");
          response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
          ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
          return;
        }
        case FORBIDDEN -> {
          answer(ctx, HttpResponseStatus.FORBIDDEN, "this key's owner may not view gateway " + target.get().gatewayId());
          return;
        }
        case ALLOWED -> { }
      }
    }
    WebSocketServerHandshaker handshaker =
        new WebSocketServerHandshakerFactory(path, null, decoderConfig).newHandshaker(request);
    if (handshaker == null) {
      WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel())
          .addListener(ChannelFutureListener.CLOSE);
      return;
    }
    Connection connection =
        new Connection(
            ConnectionIds.next(nodeToken),
            target.get().gatewayId(),
            target.get().path(),
            sourceIp(ctx),
            request.headers().get(HttpHeaderNames.USER_AGENT, ""),
            ctx.channel());
    ConnectionHandler handler = new ConnectionHandler(connection, settings, connections, metrics);
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

  /** The key from the {@code Authorization} header, or from {@code ?apiKey=…} (browsers cannot set headers). */
  private static String secret(FullHttpRequest request, QueryStringDecoder uri) {
    var fromHeader = ApiKeySecrets.fromAuthorization(request.headers().get(HttpHeaderNames.AUTHORIZATION));
    if (fromHeader.isPresent()) {
      return fromHeader.get();
    }
    var fromQuery = uri.parameters().get("apiKey");
    return fromQuery == null || fromQuery.isEmpty() ? null : fromQuery.get(0);
  }

  private static String sourceIp(ChannelHandlerContext ctx) {
    return ctx.channel().remoteAddress() instanceof InetSocketAddress address
        ? address.getAddress().getHostAddress()
        : "";
  }

  private static void answer(ChannelHandlerContext ctx, HttpResponseStatus status, String text) {
    ctx.writeAndFlush(response(status, text)).addListener(ChannelFutureListener.CLOSE);
  }

  private static FullHttpResponse response(HttpResponseStatus status, String text) {
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, status, Unpooled.copiedBuffer(text + "\n", StandardCharsets.UTF_8));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
    HttpUtil.setContentLength(response, response.content().readableBytes());
    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    return response;
  }
}
