package io.twinfleet.service;

import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A server stream's messages, collected as they come, and how it ended (null while it runs). */
public final class Collected<T> implements StreamObserver<T> {

  public final List<T> items = new CopyOnWriteArrayList<>();
  public volatile Throwable ended;

  @Override
  public void onNext(T item) {
    items.add(item);
  }

  @Override
  public void onError(Throwable t) {
    ended = t;
  }

  @Override
  public void onCompleted() {
    ended = new IllegalStateException("completed");
  }
}
