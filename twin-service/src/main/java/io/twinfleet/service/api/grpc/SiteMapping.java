package io.twinfleet.service.api.grpc;

import io.twinfleet.protocol.v1.Availability;
import io.twinfleet.protocol.v1.Interval;
import io.twinfleet.protocol.v1.MaintenanceWindow;
import io.twinfleet.protocol.v1.Site;
import io.twinfleet.protocol.v1.SiteSla;
import io.twinfleet.service.quality.Sla;
import io.twinfleet.service.quality.Uptime.Measure;
import io.twinfleet.service.quality.Uptime.Span;
import io.twinfleet.service.site.SiteState.Maintenance;
import io.twinfleet.service.site.SiteView;

/** Sites and their SLA between the service's records and the protocol's messages. */
final class SiteMapping {

  private SiteMapping() {}

  static Site toProto(SiteView v) {
    Site.Builder b = Site.newBuilder()
        .setSiteId(v.siteId())
        .setAsOf(ProtoMapping.timestamp(v.at()))
        .setDevices(v.counts().devices())
        .setActiveDevices(v.counts().active())
        .setWorkingDevices(v.counts().working())
        .setFreeDevices(v.counts().free())
        .setInUseDevices(v.counts().inUse())
        .setInService(v.counts().inService())
        .setAvailable(v.counts().available())
        .setThisMonth(toProto(v.siteId(), v.thisMonth(), false));
    if (v.stateSince() != null) {
      b.setStateSince(ProtoMapping.timestamp(v.stateSince()));
    }
    if (v.technicalUptime() != null) {
      b.setTechnicalUptime(v.technicalUptime());
    }
    if (v.last24h() != null) {
      b.setAvailability24H(availability(v.last24h()));
    }
    if (v.last7d() != null) {
      b.setAvailability7D(availability(v.last7d()));
    }
    if (v.last30d() != null) {
      b.setAvailability30D(availability(v.last30d()));
    }
    for (Maintenance m : v.maintenance()) {
      b.addMaintenance(MaintenanceWindow.newBuilder()
          .setWindowId(m.windowId())
          .setStart(ProtoMapping.timestamp(m.from()))
          .setEnd(ProtoMapping.timestamp(m.to()))
          .setReason(m.reason()));
    }
    return b.build();
  }

  /** {@code withIntervals}: the downtime intervals too (GetSiteSla), not only their total. */
  static SiteSla toProto(String siteId, Sla.Result r, boolean withIntervals) {
    SiteSla.Builder b = SiteSla.newBuilder()
        .setSiteId(siteId)
        .setMonth(r.month().toString())
        .setAvailability(r.availability())
        .setTarget(r.target())
        .setMet(r.met())
        .setMeasured(r.measured())
        .setCounted(ProtoMapping.duration(r.counted()))
        .setDowntime(ProtoMapping.duration(r.downtime()))
        .setMaintenance(ProtoMapping.duration(r.maintenance()));
    if (withIntervals) {
      for (Span s : r.downtimes()) {
        b.addDowntimes(Interval.newBuilder().setStart(ProtoMapping.timestamp(s.from())).setEnd(ProtoMapping.timestamp(s.to())));
      }
    }
    return b.build();
  }

  private static Availability availability(Measure m) {
    return Availability.newBuilder()
        .setRatio(m.ratio())
        .setInService(ProtoMapping.duration(m.counted()))
        .setUnavailable(ProtoMapping.duration(m.offline()))
        .build();
  }
}
