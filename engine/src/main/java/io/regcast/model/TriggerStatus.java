package io.regcast.model;

/** A paused trigger drops the events it receives; an active one batches and sends them. */
public enum TriggerStatus {
  ACTIVE,
  PAUSED
}
