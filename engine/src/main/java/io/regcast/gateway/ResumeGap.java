package io.regcast.gateway;

/**
 * What a resuming client is told when it cannot have everything after its id: {@code
 * lastEventId} is the id it sent, {@code resumedAfter} the id before the first message that
 * follows (the messages in between are gone).
 */
public record ResumeGap(String lastEventId, String resumedAfter) {}
