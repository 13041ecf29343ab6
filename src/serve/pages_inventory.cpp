// `/` (the inventory from the snapshot) and `/certificates` (every client
// certificate, paged through the store).
#include <algorithm>
#include <charconv>
#include <tuple>

#include "core/hex.h"
#include "serve/page_template.h"
#include "serve/pages.h"

namespace ck::serve {

namespace {

using page::Data;

// One row of either list.
struct Row {
  Seconds not_after{};
  std::string kind;  // "server", "client"
  std::string who;   // server certificate name or user name
  std::string serial;
  std::string state;
  std::string href;
  std::string ticket;
};

Data row_data(const Row& r, Seconds now) {
  Data d;
  d.set("band", std::string(page::band(r.not_after, now)));
  d.set("days", page::days_text(r.not_after, now));
  d.set("kind", r.kind);
  d.set("who", r.who);
  d.set("serial", r.serial.empty() ? std::string("-") : r.serial);
  d.set("href", r.href);
  d.set("state", r.state);
  d.set("not_after", page::when(r.not_after));
  page::set_text(d, "ticket", r.ticket);
  return d;
}

bool server_matches(const ServerCert& s, const std::string& q) {
  if (q.empty() || page::matches(s.name, q) || page::matches(s.serial_hex, q))
    return true;
  return std::any_of(s.domains.begin(), s.domains.end(),
                     [&](const std::string& d) { return page::matches(d, q); });
}

Row server_row(const ServerCert& s) {
  return {s.not_after,
          "server",
          s.name,
          s.serial_hex,
          "version " + std::to_string(s.version) + " (" + s.source + ")",
          page::server_href(s.name),
          ""};
}

Row client_row(const AlertableCert& c) {
  return {c.not_after,
          "client",
          c.user,
          c.serial_hex,
          std::string(client_state_name(c.state)),
          page::client_href(c.serial_hex),
          ""};
}

// Calls fn(server, client) (one of them null) for every row matching `q`,
// soonest notAfter first (on a tie clients first, then by name). The
// alertable set comes in that order (read_store sorts it), so only the
// servers are sorted here: a page costs one scan of the set, never a sort
// or a copy of it.
template <typename Fn>
void for_each_row(const Snapshot& snap, const std::string& q, Fn fn) {
  std::vector<const ServerCert*> servers;
  for (const auto& s : snap.servers) {
    if (server_matches(s, q))
      servers.push_back(&s);
  }
  std::sort(servers.begin(), servers.end(), [](const ServerCert* a, const ServerCert* b) {
    return std::tie(a->not_after, a->name) < std::tie(b->not_after, b->name);
  });
  auto next = servers.begin();
  for (const auto& c : snap.clients.alertable) {
    if (!q.empty() && !page::matches(c.user, q) && !page::matches(c.serial_hex, q))
      continue;
    for (; next != servers.end() && (*next)->not_after < c.not_after; ++next)
      fn(*next, nullptr);
    fn(nullptr, &c);
  }
  for (; next != servers.end(); ++next)
    fn(*next, nullptr);
}

std::string list_href(std::string_view path, const std::string& q, std::int64_t page) {
  std::string href(path);
  char sep = '?';
  if (!q.empty()) {
    href += sep + std::string("q=") + page::url_part(q);
    sep = '&';
  }
  if (page > 1)
    href += sep + std::string("page=") + std::to_string(page);
  return href;
}

Data held_data(const Snapshot& snap, Seconds now) {
  Data list = page::list();
  for (const auto& h : snap.held) {
    Data d;
    d.set("user", h.user);
    d.set("serial", h.serial_hex);
    d.set("href", page::client_href(h.serial_hex));
    page::set_text(d, "ticket", h.ticket);
    const long age_days =
        static_cast<long>(std::chrono::floor<std::chrono::days>(now - h.requested_at).count());
    d.set("age", std::to_string(std::max(0L, age_days)) + (age_days == 1 ? " day" : " days"));
    // Held past 30 days is what the alert rule flags: the user never moved.
    d.set("band", std::string(age_days >= 30 ? "held-old" : "held"));
    page::set_text(d, "replacement", h.replacement_hex);
    if (!h.replacement_hex.empty())
      d.set("replacement_href", page::client_href(h.replacement_hex));
    d.set("not_after", page::when(h.not_after));
    list.push_back(d);
  }
  return list;
}

Data crl_data(const CrlStatus& crl, Seconds now) {
  Data d;
  d.set("number", std::to_string(crl.number));
  d.set("entries", std::to_string(crl.entries));
  d.set("this_update", page::when(crl.this_update));
  d.set("next_update", page::when(crl.next_update));
  if (crl.next_update <= now) {
    d.set("next_in", "overdue by " + page::days_text(crl.next_update, now).substr(8));
    d.set("next_band", std::string("band-expired"));
  } else {
    d.set("next_in", "in " + page::days_text(crl.next_update, now));
    d.set("next_band",
          std::string(crl.next_update - now < std::chrono::days(1) ? "band-7d" : "band-ok"));
  }
  std::string publish;
  std::string cls = "publish-none";
  const std::string at = crl.published_at ? " at " + page::when(*crl.published_at) : "";
  if (!crl.publish) {
    publish = "not attempted yet";
  } else {
    switch (*crl.publish) {
      case store::PublishState::Ok:
        publish = "succeeded" + at;
        cls = "publish-ok";
        break;
      case store::PublishState::Failed:
        publish = "failed" + at + (crl.publish_error.empty() ? "" : ": " + crl.publish_error);
        cls = "publish-failed";
        break;
      case store::PublishState::None:
        publish = "no publish command is configured";
        break;
    }
  }
  d.set("publish", publish);
  d.set("publish_class", cls);
  return d;
}

// What the last `crl check` saw, judged against the newest CRL now (as the
// certkeeper_endpoint_crl_enforced metric).
Data enforcement_data(const CrlStatus& crl) {
  Data list = page::list();
  for (const auto& e : crl.enforcement) {
    Data d;
    const bool ok = enforces_newest(crl, e);
    const std::string seen = e.crl_number ? " #" + std::to_string(*e.crl_number) : "";
    std::string verdict;
    if (ok)
      verdict = "enforces the newest CRL" + seen;
    else if (e.state == "newest")
      verdict = "enforced" + seen + " when checked; a newer CRL was built since, not checked yet";
    else if (e.state == "stale")
      verdict = "stale: enforces" + seen + ", an older CRL";
    else
      verdict = e.state + (e.detail.empty() ? "" : ": " + e.detail);
    page::set_text(d, "endpoint", e.endpoint);
    page::set_text(d, "verdict", verdict);
    d.set("checked", page::when(e.checked_at));
    d.set("row_class", std::string(ok ? "enforced" : "not-enforced"));
    list.push_back(d);
  }
  Data table;
  table.set("rows", list);
  return table;
}

std::string chain_text(const Endpoint& e) {
  const auto& p = e.probe;
  if (!p.ok) {
    return "probe failed (" + std::string(failure_reason_name(e.reason)) + ", " +
           std::string(probe::phase_name(p.phase)) + "): " + p.error;
  }
  std::string text = p.verified ? "verified" : "not verified: " + p.verify_error;
  text += ", " + std::to_string(p.chain_length) + " sent";
  if (!p.target.sni.empty() && !p.hostname_match)
    text += ", name mismatch";
  return text;
}

Data endpoint_data(const Endpoint& e, Seconds now) {
  Data d;
  d.set("endpoint", e.probe.target.text);
  d.set("target", e.target.empty() ? std::string("-") : e.target);
  d.set("aligned", std::string(!e.aligned ? "-" : (*e.aligned ? "yes" : "no")));
  d.set("serving", e.serving.empty() ? std::string("-") : e.serving);
  d.set("chain", chain_text(e));
  std::string cls;
  if (e.aligned)
    cls = *e.aligned ? "aligned-yes" : "aligned-no";
  else if (!e.probe.ok || e.reason != FailureReason::None)
    cls = "probe-failed";
  else
    cls = std::string(page::band(e.probe.not_after, now));
  d.set("row_class", cls);
  d.set("leaf_not_after", e.probe.ok ? page::when(e.probe.not_after) : std::string("-"));
  d.set("chain_not_after", e.probe.ok && e.probe.chain_not_after.time_since_epoch().count() > 0
                               ? page::when(e.probe.chain_not_after)
                               : std::string("-"));
  return d;
}

Data rollout_data(const Rollout& r) {
  Data d;
  d.set("id", std::to_string(r.id));
  d.set("state", r.state);
  d.set("last_change", page::when(r.last_change));
  page::set_text(d, "detail", r.detail);
  return d;
}

// The endpoints by where they came from (targets files, then plans, as the
// snapshot has them), each plan with its newest rollout.
Data groups_data(const Snapshot& snap, Seconds now) {
  struct Group {
    std::string source, plan;
    std::vector<const Endpoint*> endpoints;
  };
  std::vector<Group> groups;
  for (const auto& e : snap.endpoints) {
    if (groups.empty() || groups.back().source != e.source)
      groups.push_back({e.source, e.plan, {}});
    groups.back().endpoints.push_back(&e);
  }
  for (const auto& r : snap.rollouts) {
    const bool seen =
        std::any_of(groups.begin(), groups.end(), [&](const Group& g) { return g.plan == r.plan; });
    if (!seen)
      groups.push_back({r.path, r.plan, {}});
  }
  Data list = page::list();
  for (const auto& g : groups) {
    Data d;
    d.set("source", g.source);
    d.set("title",
          g.plan.empty() ? "Targets file " + g.source : "Plan " + g.plan + " (" + g.source + ")");
    for (const auto& r : snap.rollouts) {
      if (!g.plan.empty() && r.plan == g.plan)
        d.set("rollout", rollout_data(r));
    }
    for (const auto& p : snap.plans) {
      if (!g.plan.empty() && p.plan == g.plan && !p.error.empty())
        d.set("plan_error", p.error);
    }
    Data eps = page::list();
    for (const auto* e : g.endpoints)
      eps.push_back(endpoint_data(*e, now));
    d.set("endpoints", eps);
    list.push_back(d);
  }
  return list;
}

// The full list's cursor: "<notAfter seconds>.<serial hex>" of the last row shown.
struct Cursor {
  std::int64_t not_after = 0;
  std::string serial;
};

std::optional<Cursor> parse_cursor(std::string_view text) {
  const auto dot = text.find('.');
  if (dot == std::string_view::npos)
    return std::nullopt;
  Cursor c;
  const auto* end = text.data() + dot;
  const auto [p, ec] = std::from_chars(text.data(), end, c.not_after);
  if (dot == 0 || ec != std::errc() || p != end)
    return std::nullopt;
  c.serial = std::string(text.substr(dot + 1));
  if (c.serial.empty() || c.serial.size() > 64 || !from_hex(c.serial))
    return std::nullopt;
  std::transform(c.serial.begin(), c.serial.end(), c.serial.begin(),
                 [](char ch) { return static_cast<char>(std::toupper(ch)); });
  return c;
}

}  // namespace

Page render_inventory(const Snapshot& snap, const PageQuery& query, Seconds now) {
  if (!query.after.empty())
    return render_error_page(snap, 400, "after: the inventory pages with page=N", now);
  // Only the requested page's rows are built; the rest are counted.
  const auto first = static_cast<std::size_t>(query.page - 1) * kPageRows;
  std::size_t total = 0;
  Data list = page::list();
  for_each_row(snap, query.q, [&](const ServerCert* s, const AlertableCert* c) {
    if (total >= first && total < first + kPageRows)
      list.push_back(row_data(s ? server_row(*s) : client_row(*c), now));
    ++total;
  });
  const auto pages = static_cast<std::int64_t>((total + kPageRows - 1) / kPageRows);
  Data d;
  page::set_text(d, "q", query.q);
  if (!query.q.empty())
    d.set("q_url", page::url_part(query.q));
  d.set("total", std::to_string(total));
  if (total == 1)
    d.set("one", true);
  const auto& by_state = snap.clients.by_state;
  d.set("active", std::to_string(by_state[static_cast<std::size_t>(ClientState::Active)]));
  d.set("held_count", std::to_string(by_state[static_cast<std::size_t>(ClientState::Held)]));
  d.set("revoked", std::to_string(by_state[static_cast<std::size_t>(ClientState::Revoked)]));
  d.set("expired", std::to_string(by_state[static_cast<std::size_t>(ClientState::Expired)]));
  d.set("rows", list);
  if (pages > 1) {
    Data pager;
    pager.set("page", std::to_string(query.page));
    pager.set("pages", std::to_string(pages));
    if (query.page > 1)
      pager.set("prev", list_href("/", query.q, std::min(query.page - 1, pages)));
    if (query.page < pages)
      pager.set("next", list_href("/", query.q, query.page + 1));
    d.set("pager", pager);
  }
  d.set("held", held_data(snap, now));
  if (snap.crl.present)
    d.set("crl", crl_data(snap.crl, now));
  if (!snap.crl.enforcement.empty())
    d.set("enforcement", enforcement_data(snap.crl));
  d.set("groups", groups_data(snap, now));
  if (snap.probed_at.time_since_epoch().count() > 0)
    d.set("probing", true);
  return page::render(200, "inventory", "Inventory", d, snap, now);
}

Page render_client_list(store::Store& store, const Snapshot& snap, const PageQuery& query,
                        Seconds now) {
  if (query.page != 1)
    return render_error_page(snap, 400, "page: this list pages with its next link (after=)", now);
  std::optional<Cursor> after;
  if (!query.after.empty()) {
    after = parse_cursor(query.after);
    if (!after)
      return render_error_page(snap, 400, "after: not a cursor from this list's next link", now);
  }
  // The page's rows plus one (so "next" shows only when there is more), in
  // the store's (notAfter, serial) order: an index walk that stops there.
  std::optional<std::pair<Seconds, std::string>> from;
  if (after) {
    auto serial = from_hex(after->serial);
    if (!serial)
      return render_error_page(snap, 400, "after: not a cursor from this list's next link", now);
    from.emplace(Seconds{std::chrono::seconds(after->not_after)}, std::move(*serial));
  }
  auto tx = store.read();
  if (!tx)
    return render_error_page(snap, 500, tx.error().message, now);
  std::vector<Row> rows;
  auto st = (*tx)->for_each_cert_by_expiry(from, [&](const store::CertListRow& r) {
    std::string serial = to_hex(r.cert.serial);
    if (!query.q.empty() && !page::matches(r.cert.user, query.q) && !page::matches(serial, query.q))
      return true;
    rows.push_back({r.cert.not_after, "client", r.cert.user, serial,
                    std::string(client_state_name(client_state(r, now))), page::client_href(serial),
                    r.cert.ticket});
    return rows.size() <= kPageRows;
  });
  if (!st)
    return render_error_page(snap, 500, st.error().message, now);
  const bool more = rows.size() > kPageRows;
  if (more)
    rows.pop_back();
  Data d;
  page::set_text(d, "q", query.q);
  d.set("page_size", std::to_string(kPageRows));
  Data list = page::list();
  for (const auto& r : rows)
    list.push_back(row_data(r, now));
  d.set("rows", list);
  if (more) {
    const auto& last = rows.back();
    std::string next = "/certificates?";
    if (!query.q.empty())
      next += "q=" + page::url_part(query.q) + "&";
    next +=
        "after=" + std::to_string(last.not_after.time_since_epoch().count()) + "." + last.serial;
    d.set("next", next);
  }
  return page::render(200, "clients", "All client certificates", d, snap, now);
}

}  // namespace ck::serve
