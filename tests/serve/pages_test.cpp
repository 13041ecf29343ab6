// The web pages rendered from a Snapshot and a store built here: rows, their
// order and colour bands, search, paging, the detail pages, 400/404, and that
// text from a certificate or a user never becomes markup.
#include "serve/pages.h"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <optional>

#include "core/fingerprint.h"
#include "core/hex.h"
#include "core/keygen.h"
#include "core/pem.h"
#include "fakes/temp_dir.h"

namespace ck::serve {
namespace {

const Seconds kNow{std::chrono::seconds(1'800'000'000)};
constexpr auto kDay = std::chrono::days(1);

const std::string kScript = "<script>alert(1)</script>";
const std::string kImg = "\"><img src=x onerror=alert(1)>";

// A self-signed certificate with `cn` and DNS SANs holding any text (built
// by hand: openssl's config syntax would mangle quotes and commas).
X509Ptr make_cert(const std::string& cn, const std::vector<std::string>& sans, long serial,
                  Seconds not_after) {
  auto key = generate_key(KeyType::EcP256);
  X509Ptr cert(::X509_new());
  ::X509_set_version(cert.get(), 2);
  ::ASN1_INTEGER_set(::X509_get_serialNumber(cert.get()), serial);
  ::ASN1_TIME_set(::X509_getm_notBefore(cert.get()), (kNow - 10 * kDay).time_since_epoch().count());
  ::ASN1_TIME_set(::X509_getm_notAfter(cert.get()), not_after.time_since_epoch().count());
  X509_NAME* name = ::X509_get_subject_name(cert.get());
  ::X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  ::X509_set_issuer_name(cert.get(), name);
  GENERAL_NAMES* names = ::GENERAL_NAMES_new();
  for (const auto& s : sans) {
    ASN1_IA5STRING* ia5 = ::ASN1_IA5STRING_new();
    ::ASN1_STRING_set(ia5, s.data(), static_cast<int>(s.size()));
    GENERAL_NAME* gn = ::GENERAL_NAME_new();
    ::GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
    ::sk_GENERAL_NAME_push(names, gn);
  }
  ::X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT);
  ::GENERAL_NAMES_free(names);
  ::X509_set_pubkey(cert.get(), key->get());
  ::X509_sign(cert.get(), key->get(), ::EVP_sha256());
  return cert;
}

std::string der_of(const X509& cert) {
  return *cert_to_der(cert);
}

// The rows of table `id` in document order: (class, text of the "who" cell).
std::vector<std::pair<std::string, std::string>> rows_of(const std::string& html,
                                                         const std::string& id) {
  const auto start = html.find("<table id=\"" + id + "\"");
  const auto end = html.find("</table>", start);
  const std::string table = html.substr(start, end - start);
  // Parsed by hand: GCC 12's <regex> trips -Wmaybe-uninitialized in the
  // sanitized build, and the markup is ours.
  std::vector<std::pair<std::string, std::string>> out;
  const std::string tr = "<tr class=\"";
  const std::string who = "<td class=\"who\">";
  for (auto pos = table.find(tr); pos != std::string::npos; pos = table.find(tr, pos)) {
    pos += tr.size();
    const auto class_end = table.find('"', pos);
    const auto row_end = table.find("</tr>", pos);
    const auto cell = table.find(who, pos);
    if (cell == std::string::npos || cell > row_end)
      continue;
    const auto text = cell + who.size();
    out.emplace_back(table.substr(pos, class_end - pos),
                     table.substr(text, table.find('<', text) - text));
  }
  return out;
}

void expect_no_markup_from(const std::string& html) {
  EXPECT_EQ(html.find("<script"), std::string::npos) << html;
  EXPECT_EQ(html.find("<img"), std::string::npos) << html;
  EXPECT_EQ(html.find("onerror=alert(1)>"), std::string::npos);
}

Snapshot sample_snapshot() {
  Snapshot s;
  s.taken_at = kNow;
  s.store_up = true;
  s.ca_name = "Test CA";
  s.servers.push_back({"web",
                       2,
                       "acme",
                       {"web.example"},
                       "0A0B",
                       "ab",
                       "CN=web",
                       "CN=CA",
                       kNow - 60 * kDay,
                       kNow + 40 * kDay});
  s.servers.push_back({"mail@corp",
                       1,
                       "import",
                       {"mail.example"},
                       "0C0D",
                       "cd",
                       "CN=mail",
                       "CN=CA",
                       kNow - 60 * kDay,
                       kNow - 2 * kDay});
  s.clients.alertable.push_back({"alice", "A1", ClientState::Active, kNow + 3 * kDay});
  s.clients.alertable.push_back({"bob", "B2", ClientState::Active, kNow + 20 * kDay});
  s.clients.alertable.push_back({"carol", "C3", ClientState::Held, kNow + 200 * kDay});
  s.clients.by_state = {10, 1, 2, 3};
  s.held.push_back({"carol", "C3", "C4", "OPS-7", kNow - 45 * kDay, kNow + 200 * kDay});
  s.crl.present = true;
  s.crl.number = 12;
  s.crl.entries = 4;
  s.crl.this_update = kNow - kDay;
  s.crl.next_update = kNow + 6 * kDay;
  s.crl.publish = store::PublishState::Failed;
  s.crl.published_at = kNow - kDay;
  s.crl.publish_error = "rsync exited 23";
  return s;
}

TEST(Pages, InventorySortsByDaysLeftWithColourBands) {
  const Page p = render_inventory(sample_snapshot(), {}, kNow);
  EXPECT_EQ(p.status, 200);
  const auto rows = rows_of(p.html, "inventory");
  ASSERT_EQ(rows.size(), 5u) << p.html;
  const std::vector<std::pair<std::string, std::string>> want{{"band-expired", "mail@corp"},
                                                              {"band-7d", "alice"},
                                                              {"band-30d", "bob"},
                                                              {"band-ok", "web"},
                                                              {"band-ok", "carol"}};
  EXPECT_EQ(rows, want);
  // A name in a URL is percent-encoded ('@'), in text it is as it is.
  EXPECT_NE(p.html.find("href=\"/servers/mail%40corp\""), std::string::npos);
  EXPECT_NE(p.html.find("href=\"/certificates/A1\""), std::string::npos);
  // Held: ticket, age, and what releases it.
  EXPECT_EQ(rows_of(p.html, "held").size(), 1u);
  EXPECT_NE(p.html.find("OPS-7"), std::string::npos);
  EXPECT_NE(p.html.find("45 days"), std::string::npos);
  EXPECT_NE(p.html.find("the first use of <a href=\"/certificates/C4\">C4</a>"), std::string::npos);
  EXPECT_NE(p.html.find("certkeeper user confirm carol"), std::string::npos);
  // The CRL, its failed publish shown as such.
  EXPECT_NE(p.html.find("<dd id=\"crl-number\">12</dd>"), std::string::npos);
  EXPECT_NE(p.html.find("class=\"publish-failed\">failed at "), std::string::npos);
  EXPECT_NE(p.html.find("rsync exited 23"), std::string::npos);
}

TEST(Pages, CrlEnforcementJudgedAgainstTheNewestCrl) {
  Snapshot s = sample_snapshot();  // CRL #12
  s.crl.enforcement = {
      {"https://a/", "newest", 12, 12, kNow, ""},
      {"https://b/", "newest", 11, 11, kNow, ""},
      {"https://c/", "no-client-check", std::nullopt, 12, kNow, "never asked for one"},
  };
  const Page p = render_inventory(s, {}, kNow);
  const auto rows = rows_of(p.html, "enforcement");
  ASSERT_EQ(rows.size(), 3u) << p.html;
  EXPECT_EQ(rows[0], (std::pair<std::string, std::string>{"enforced", "https://a/"}));
  EXPECT_EQ(rows[1].first, "not-enforced");
  EXPECT_EQ(rows[2].first, "not-enforced");
  EXPECT_NE(p.html.find("enforces the newest CRL #12"), std::string::npos);
  EXPECT_NE(p.html.find("enforced #11 when checked; a newer CRL was built since"),
            std::string::npos);
  EXPECT_NE(p.html.find("no-client-check: never asked for one"), std::string::npos);
  // No check yet: no table.
  EXPECT_EQ(render_inventory(sample_snapshot(), {}, kNow).html.find("id=\"enforcement\""),
            std::string::npos);
}

TEST(Pages, SearchFiltersOnTheServerCaseInsensitively) {
  PageQuery q;
  q.q = "ALI";
  auto rows = rows_of(render_inventory(sample_snapshot(), q, kNow).html, "inventory");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].second, "alice");
  q.q = "b2";  // a serial
  rows = rows_of(render_inventory(sample_snapshot(), q, kNow).html, "inventory");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].second, "bob");
  q.q = "mail.example";  // a server's domain
  rows = rows_of(render_inventory(sample_snapshot(), q, kNow).html, "inventory");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].second, "mail@corp");
  q.q = "nobody";
  EXPECT_TRUE(rows_of(render_inventory(sample_snapshot(), q, kNow).html, "inventory").empty());
}

TEST(Pages, InventoryPagesAHundredRows) {
  Snapshot s = sample_snapshot();
  s.clients.alertable.clear();
  for (int i = 0; i < 250; ++i)
    s.clients.alertable.push_back({"u" + std::to_string(1000 + i), "S" + std::to_string(i),
                                   ClientState::Active, kNow + std::chrono::hours(i)});
  PageQuery q;
  q.q = "u1";
  auto p = render_inventory(s, q, kNow);
  auto rows = rows_of(p.html, "inventory");
  ASSERT_EQ(rows.size(), 100u);
  EXPECT_EQ(rows.front().second, "u1000");
  EXPECT_NE(p.html.find("href=\"/?q=u1&amp;page=2\""), std::string::npos);
  q.page = 3;
  rows = rows_of(render_inventory(s, q, kNow).html, "inventory");
  ASSERT_EQ(rows.size(), 50u);
  EXPECT_EQ(rows.back().second, "u1249");
}

// Text from users, tickets, commands and probes is escaped in text and in
// attributes; the search text echoed back into value="" stays in it.
TEST(Pages, InventoryEscapesEveryValue) {
  Snapshot s = sample_snapshot();
  s.clients.alertable.push_back({kScript + kImg, "EE", ClientState::Active, kNow + kDay});
  s.held.push_back({kImg, "EF", "", kScript, kNow - kDay, kNow + kDay});
  s.crl.publish_error = kScript;
  s.ca_name = kImg;
  Endpoint e;
  e.source = "plan.toml";
  e.plan = "web";
  e.target = kImg;
  e.aligned = false;
  e.serving = "old";
  e.probe.target.text = kScript;
  e.probe.error = kImg;
  e.reason = FailureReason::Connect;
  s.endpoints.push_back(e);
  s.probed_at = kNow;
  PageQuery q;
  q.q = kImg;
  for (const auto& query : {PageQuery{}, q}) {
    const Page p = render_inventory(s, query, kNow);
    expect_no_markup_from(p.html);
  }
  const Page p = render_inventory(s, {}, kNow);
  EXPECT_NE(p.html.find("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x"),
            std::string::npos);
  EXPECT_NE(p.html.find("<tr class=\"aligned-no\">"), std::string::npos);
  const Page searched = render_inventory(s, q, kNow);
  EXPECT_NE(searched.html.find("value=\"&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\""),
            std::string::npos);
  // In the link to the full list the search text is percent-encoded.
  EXPECT_NE(searched.html.find("href=\"/certificates?q=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert"
                               "%281%29%3E\""),
            std::string::npos)
      << searched.html;
}

// A snapshot whose store read failed says so on every page (and escapes why).
TEST(Pages, AStoreThatCannotBeReadIsShown) {
  Snapshot s = sample_snapshot();
  EXPECT_EQ(render_inventory(s, {}, kNow).html.find("id=\"store-down\""), std::string::npos);
  s.store_up = false;
  s.store_error = "disk I/O error " + kScript;
  for (const auto& p : {render_inventory(s, {}, kNow), render_error_page(s, 404, "x", kNow)}) {
    EXPECT_NE(p.html.find("id=\"store-down\""), std::string::npos);
    EXPECT_NE(p.html.find("disk I/O error &lt;script&gt;"), std::string::npos);
    expect_no_markup_from(p.html);
  }
}

TEST(Pages, BadQueriesAreRefused) {
  using Params = std::multimap<std::string, std::string>;
  EXPECT_TRUE(parse_page_query(Params{{"q", "alice"}, {"page", "2"}}));
  EXPECT_FALSE(parse_page_query(Params{{"page", "0"}}));
  EXPECT_FALSE(parse_page_query(Params{{"page", "2x"}}));
  EXPECT_FALSE(parse_page_query(Params{{"page", ""}}));
  EXPECT_FALSE(parse_page_query(Params{{"q", "a"}, {"q", "b"}}));
  EXPECT_FALSE(parse_page_query(Params{{"q", "a\nb"}}));
  EXPECT_FALSE(parse_page_query(Params{{"q", "\xff"}}));
  EXPECT_FALSE(parse_page_query(Params{{"q", std::string(201, 'a')}}));
  EXPECT_TRUE(parse_page_query(Params{{"q", std::string(200, 'a')}}));
  const auto unknown = parse_page_query(Params{{"sort", "x"}});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("sort"), std::string::npos);
  const Page p = render_error_page(sample_snapshot(), 400, kScript, kNow);
  EXPECT_EQ(p.status, 400);
  expect_no_markup_from(p.html);
}

class StorePages : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_store("sqlite:" + (dir.path() / "ck.db").string());
    ASSERT_TRUE(opened) << opened.error().message;
    store = std::move(*opened);
    auto tx = store->write();
    ASSERT_TRUE(tx);
    store::UserProfile p;
    p.name = "evil";
    p.cn = kScript + kImg;
    p.email = "e@example.org";
    ASSERT_TRUE((*tx)->insert_user(p, kNow - 5 * kDay));
    client = make_cert(kScript + kImg, {kScript, kImg}, 0x1234, kNow + 5 * kDay);
    store::CertRecord c;
    c.serial = *from_hex("1234");
    c.user = "evil";
    c.key_type = "ec-p256";
    c.not_before = kNow - 10 * kDay;
    c.not_after = kNow + 5 * kDay;
    c.issued_at = kNow - 10 * kDay;
    c.der = der_of(*client);
    c.ticket = kImg;
    ASSERT_TRUE((*tx)->insert_cert(c));
    ASSERT_TRUE((*tx)->audit(
        {kNow - 10 * kDay, "ops@host", "user.create", "evil", "serial 1234, ticket " + kImg}));
    ASSERT_TRUE((*tx)->audit({kNow - 9 * kDay, "ops@host", "user.create", "evil", "serial 9999"}));
    issuer = make_cert("Issuing CA " + kScript, {}, 7, kNow + 2 * kDay);
    server = make_cert(kScript, {kImg, kScript}, 0x55, kNow + 20 * kDay);
    store::ServerCertRecord s;
    s.name = "web";
    s.version = 3;
    s.source = "import";
    s.domains = {kImg};
    s.cert_der = der_of(*server);
    s.chain_pem = *cert_to_pem(*issuer);
    s.not_before = kNow - 10 * kDay;
    s.not_after = kNow + 20 * kDay;
    s.created_at = kNow - kDay;
    s.sha256 = "00";
    ASSERT_TRUE((*tx)->insert_server_cert(s));
    ASSERT_TRUE((*tx)->audit({kNow - kDay, "ops@host", "servercert.import", "web", kImg}));
    ASSERT_TRUE((*tx)->commit());
  }
  ck::testing::TempDir dir;
  std::unique_ptr<store::Store> store;
  X509Ptr client, issuer, server;
};

TEST_F(StorePages, ClientDetailShowsTheCertificateAndItsHistoryAsText) {
  for (const char* serial : {"1234", "001234"}) {
    const Page p = render_client_page(*store, sample_snapshot(), serial, kNow);
    ASSERT_EQ(p.status, 200) << p.html;
    expect_no_markup_from(p.html);
    EXPECT_NE(p.html.find("<dd id=\"field-common-name\" "
                          "class=\"cn\">&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img "
                          "src=x onerror=alert(1)&gt;</dd>"),
              std::string::npos)
        << p.html;
    EXPECT_NE(p.html.find("<li>&lt;script&gt;alert(1)&lt;/script&gt;</li>"), std::string::npos);
    EXPECT_NE(p.html.find("<li>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</li>"),
              std::string::npos);
    EXPECT_NE(p.html.find(*fingerprint(*client, DigestKind::Sha256, FingerprintFormat::Colon)),
              std::string::npos);
    EXPECT_NE(p.html.find(*fingerprint(*client, DigestKind::Sha1, FingerprintFormat::Colon)),
              std::string::npos);
    EXPECT_NE(p.html.find("band-7d not-after"), std::string::npos);
    // Its own audit entry, not the user's entry about another serial.
    EXPECT_NE(p.html.find("serial 1234, ticket &quot;&gt;"), std::string::npos);
    EXPECT_EQ(p.html.find("serial 9999"), std::string::npos);
  }
}

TEST_F(StorePages, ServerDetailShowsItsChain) {
  const Page p = render_server_page(*store, sample_snapshot(), "web", kNow);
  ASSERT_EQ(p.status, 200) << p.html;
  expect_no_markup_from(p.html);
  EXPECT_NE(p.html.find("<table id=\"chain\""), std::string::npos);
  EXPECT_NE(p.html.find("CN=Issuing CA \\&lt;script\\&gt;"), std::string::npos) << p.html;
  EXPECT_NE(p.html.find(*fingerprint(*issuer, DigestKind::Sha256, FingerprintFormat::Colon)),
            std::string::npos);
  EXPECT_NE(p.html.find("servercert.import"), std::string::npos);
  EXPECT_NE(p.html.find("3 (import)"), std::string::npos);
}

TEST_F(StorePages, UnknownIs404AndMalformedIs400) {
  const auto snap = sample_snapshot();
  EXPECT_EQ(render_client_page(*store, snap, "ABCD", kNow).status, 404);
  EXPECT_EQ(render_client_page(*store, snap, "XYZ", kNow).status, 400);
  EXPECT_EQ(render_client_page(*store, snap, "", kNow).status, 400);
  const Page bad = render_client_page(*store, snap, kScript, kNow);
  EXPECT_EQ(bad.status, 400);
  expect_no_markup_from(bad.html);
  EXPECT_EQ(render_server_page(*store, snap, "nosuch", kNow).status, 404);
  const Page odd = render_server_page(*store, snap, kImg, kNow);
  EXPECT_EQ(odd.status, 404);
  expect_no_markup_from(odd.html);
}

TEST_F(StorePages, FullClientListPagesThroughTheStore) {
  {
    auto tx = store->write();
    ASSERT_TRUE(tx);
    store::UserProfile p;
    p.name = "many";
    p.cn = "many";
    p.email = "m@example.org";
    ASSERT_TRUE((*tx)->insert_user(p, kNow));
    for (int i = 0; i < 150; ++i) {
      store::CertRecord c;
      c.serial = std::string(1, static_cast<char>(0x10 + i / 16)) + static_cast<char>(i);
      c.user = "many";
      c.not_after = kNow + std::chrono::hours(150 - i);  // inserted latest first
      c.der = "x";
      c.status = store::CertStatus::Superseded;
      ASSERT_TRUE((*tx)->insert_cert(c));
    }
    ASSERT_TRUE((*tx)->commit());
  }
  PageQuery q;
  q.q = "MAN";
  Page p = render_client_list(*store, sample_snapshot(), q, kNow);
  ASSERT_EQ(p.status, 200);
  auto rows = rows_of(p.html, "clients");
  ASSERT_EQ(rows.size(), 100u);
  // The "next page" link and its cursor (`<seconds>.<SERIAL HEX>`).
  const auto next_cursor = [](const std::string& html) -> std::optional<std::string> {
    const std::string link = "href=\"/certificates?q=MAN&amp;after=";
    const auto at = html.find(link);
    if (at == std::string::npos)
      return std::nullopt;
    const auto from = at + link.size();
    return html.substr(from, html.find('"', from) - from);
  };
  const auto cursor = next_cursor(p.html);
  ASSERT_TRUE(cursor.has_value()) << p.html;
  const auto dot = cursor->find('.');
  ASSERT_NE(dot, std::string::npos) << *cursor;
  EXPECT_EQ(cursor->find_first_not_of("0123456789"), dot) << *cursor;
  EXPECT_EQ(cursor->find_first_not_of("0123456789ABCDEF", dot + 1), std::string::npos) << *cursor;
  // Soonest first: the last inserted expires first.
  EXPECT_NE(p.html.find("1 hour"), std::string::npos);
  q.after = *cursor;
  p = render_client_list(*store, sample_snapshot(), q, kNow);
  ASSERT_EQ(p.status, 200);
  EXPECT_EQ(rows_of(p.html, "clients").size(), 50u);
  EXPECT_FALSE(next_cursor(p.html).has_value());
  // Everyone, unfiltered: 151 (evil's too), its hostile ticket as text.
  p = render_client_list(*store, sample_snapshot(), {}, kNow);
  expect_no_markup_from(p.html);
  q = {};
  q.after = "nonsense";
  EXPECT_EQ(render_client_list(*store, sample_snapshot(), q, kNow).status, 400);
}

}  // namespace
}  // namespace ck::serve
