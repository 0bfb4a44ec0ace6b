package io.regcast.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import io.regcast.model.Problem;
import java.io.IOException;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/** Parsing request bodies and writing JSON responses with the node's one ObjectMapper. */
final class ApiJson {
  private static volatile ObjectMapper mapper = new ObjectMapper();
  private static volatile ObjectReader reader = readerOf(mapper);

  private ApiJson() {}

  /** Uses the mapper Pekko's serialization is configured with (one JSON configuration). */
  static void use(ObjectMapper shared) {
    mapper = shared;
    reader = readerOf(shared);
  }

  private static ObjectReader readerOf(ObjectMapper m) {
    return m.reader().with(StreamReadFeature.STRICT_DUPLICATE_DETECTION);
  }

  static JsonNode parse(byte[] body) {
    try {
      return reader.readTree(body);
    } catch (IOException e) {
      String detail = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
      throw Problem.invalid("", "the request body is not valid JSON: " + detail).toException();
    }
  }

  static HttpResponse ok(JsonNode body) {
    return response(StatusCodes.OK, body);
  }

  static HttpResponse response(StatusCode status, JsonNode body) {
    try {
      return HttpResponse.create()
          .withStatus(status)
          .withEntity(ContentTypes.APPLICATION_JSON, mapper.writeValueAsBytes(body));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a JSON tree", e);
    }
  }
}
