package io.regcast.gateway;

import java.util.List;

/**
 * Where the gateway gets what a resuming connection missed when this node's in-memory tail of the
 * path does not reach back far enough: the path's log.
 */
@FunctionalInterface
public interface StreamHistory {
  /**
   * Asks for every retained message of {@code path} after {@code lastEventId} (an id a client
   * sent: maybe not a number, maybe unknown to the path); the answer goes to {@code target}, from
   * any thread.
   */
  void resume(PathKey path, String lastEventId, Target target);

  /** The connection that resumes. */
  interface Target {
    /**
     * The retained messages after the client's id, in order; {@code gap} is null when nothing
     * between the id and the first of them is missing.
     */
    void replay(ResumeGap gap, List<StreamEntry> entries);

    /** The history could not be read: the connection cannot resume (it is closed; the client retries). */
    void unavailable(String reason);
  }
}
