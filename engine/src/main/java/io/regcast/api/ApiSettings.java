package io.regcast.api;

import io.regcast.model.HistorySettings;
import java.time.Duration;

/**
 * What the admin API is configured with: its listener and body limit ({@code regcast.http}),
 * paging ({@code regcast.api}), how long a reconcile may take, and the history of gateways that
 * set none (shown in their GET).
 */
public record ApiSettings(
    String host,
    int port,
    long maxBodySize,
    Duration askTimeout,
    int defaultPageSize,
    int maxPageSize,
    Duration reconcileTimeout,
    HistorySettings historyDefaults) {}
