package io.twinfleet.service;

/**
 * Marker for everything that is persisted or crosses a node boundary: bound to Jackson CBOR in
 * serialization.conf, so nothing ever falls back to Java serialization.
 */
public interface CborSerializable {}
