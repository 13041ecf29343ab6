#include "store/postgres/connection.h"

#include <arpa/inet.h>

#include <cstring>

namespace ck::store::postgres {
namespace {

// Oids of the types certkeeper binds (pg_type.h; stable across versions).
constexpr unsigned kBoolOid = 16;
constexpr unsigned kByteaOid = 17;
constexpr unsigned kInt8Oid = 20;
constexpr unsigned kTextOid = 25;

// Rows a streamed statement fetches at a time.
constexpr int kFetchRows = 10'000;

std::int64_t be_int(const char* p, int len) {
  std::uint64_t v = 0;
  for (int i = 0; i < len; ++i)
    v = (v << 8) | static_cast<unsigned char>(p[i]);
  // Sign-extend from len bytes.
  if (len < 8 && len > 0 && (static_cast<unsigned char>(p[0]) & 0x80) != 0)
    v |= ~std::uint64_t{0} << (8 * len);
  return static_cast<std::int64_t>(v);
}

// libpq's messages span lines (and indent with tabs): one line, as every
// certkeeper error is.
std::string one_line(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const bool space = c == '\n' || c == '\t' || c == '\r' || c == ' ';
    if (space) {
      if (!out.empty() && out.back() != ' ')
        out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

}  // namespace

std::string shown_url(std::string_view url) {
  // postgresql://user:secret@host/db?x -> postgresql://user@host/db
  std::string out(url.substr(0, url.find('?')));
  const auto scheme = out.find("://");
  if (scheme == std::string::npos)
    return out;
  const auto at = out.find('@', scheme + 3);
  if (at == std::string::npos)
    return out;
  const auto colon = out.find(':', scheme + 3);
  if (colon != std::string::npos && colon < at)
    out.erase(colon, at - colon);
  return out;
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& url) {
  const std::string shown = shown_url(url);
  char* parse_error = nullptr;
  PQconninfoOption* options = ::PQconninfoParse(url.c_str(), &parse_error);
  if (options == nullptr) {
    const std::string why = one_line(parse_error != nullptr ? parse_error : "out of memory");
    ::PQfreemem(parse_error);
    return fail(Code::InvalidArgument, "store URL '" + shown + "': " + why);
  }
  bool has_password = false;
  for (auto* o = options; o->keyword != nullptr; ++o) {
    if (std::strcmp(o->keyword, "password") == 0 && o->val != nullptr && *o->val != '\0')
      has_password = true;
  }
  ::PQconninfoFree(options);
  if (has_password) {
    return fail(Code::InvalidArgument,
                "store URL '" + shown +
                    "' carries a password: put it in a passfile (`passfile=` in the URL or "
                    "PGPASSFILE), never in the URL");
  }
  PGconn* conn = ::PQconnectdb(url.c_str());
  if (conn == nullptr)
    return fail(Code::Unavailable, "cannot connect to " + shown + ": out of memory");
  if (::PQstatus(conn) != CONNECTION_OK) {
    const std::string why = one_line(::PQerrorMessage(conn));
    ::PQfinish(conn);
    return fail(Code::Unavailable, "cannot connect to " + shown + ": " + why);
  }
  auto c = std::unique_ptr<Connection>(new Connection(conn, shown));
  // UTC and a fixed encoding whatever the server's defaults; a lock wait
  // ends with a message instead of a hang (core/error's Unavailable).
  CK_TRY(
      c->exec("SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'; SET lock_timeout = '60s';"
              " SET client_min_messages = 'warning'"));
  return c;
}

Connection::~Connection() {
  ::PQfinish(conn_);
}

Error Connection::error(std::string_view what, const PGresult* res) const {
  std::string msg = one_line(res != nullptr ? ::PQresultErrorMessage(res) : "");
  if (msg.empty())
    msg = one_line(::PQerrorMessage(conn_));
  const char* state = res != nullptr ? ::PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state != nullptr ? state : "";
  Code code = Code::Storage;
  // 40001 serialization failure, 40P01 deadlock, 55P03 lock not available
  // (lock_timeout): another certkeeper holds what this one needs.
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
    code = Code::Unavailable;
    msg = "database " + shown_ + " is busy (another certkeeper holds it): " + msg;
    return Error{code, msg, sqlstate};
  }
  if (sqlstate == "23505")
    code = Code::AlreadyExists;
  if (::PQstatus(conn_) != CONNECTION_OK)
    code = Code::Unavailable;
  return Error{code, "database " + shown_ + ": " + std::string(what) + ": " + msg, sqlstate};
}

Status Connection::exec(const char* sql) {
  ResultPtr res(::PQexec(conn_, sql));
  const auto st = ::PQresultStatus(res.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    return fail(error("exec", res.get()));
  return {};
}

Result<std::string> Connection::prepared(const char* sql, int n_params, const unsigned* types) {
  if (auto it = prepared_.find(sql); it != prepared_.end())
    return it->second;
  std::string name = "ck" + std::to_string(prepared_.size() + 1);
  ResultPtr res(::PQprepare(conn_, name.c_str(), sql, n_params, types));
  if (::PQresultStatus(res.get()) != PGRES_COMMAND_OK)
    return fail(error("prepare", res.get()));
  prepared_.emplace(sql, name);
  return name;
}

Statement::~Statement() {
  drain();
}

void Statement::drain() noexcept {
  if (stream_ && started_ && !done_ && conn_ != nullptr &&
      ::PQtransactionStatus(conn_->raw()) == PQTRANS_INTRANS) {
    const std::string close = "CLOSE " + cursor_;
    ResultPtr closed(::PQexec(conn_->raw(), close.c_str()));
  }
  done_ = true;
}

Statement::Param& Statement::param(int index) {
  if (params_.size() < static_cast<std::size_t>(index))
    params_.resize(static_cast<std::size_t>(index));
  return params_[static_cast<std::size_t>(index - 1)];
}

Statement& Statement::bind(int index, std::int64_t value) {
  auto& p = param(index);
  p.value = std::to_string(value);
  p.null = false;
  p.binary = false;
  p.type = kInt8Oid;
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  auto& p = param(index);
  p.value.assign(text);
  p.null = false;
  p.binary = false;
  p.type = kTextOid;
  return *this;
}

Statement& Statement::bind_bool(int index, bool value) {
  auto& p = param(index);
  p.value = value ? "t" : "f";
  p.null = false;
  p.binary = false;
  p.type = kBoolOid;
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
  auto& p = param(index);
  p.value.assign(bytes);
  p.null = false;
  p.binary = true;
  p.type = kByteaOid;
  return *this;
}

Statement& Statement::bind_null(int index) {
  auto& p = param(index);
  p.value.clear();
  p.null = true;
  p.binary = false;
  return *this;
}

Status Statement::start() {
  started_ = true;
  const int n = static_cast<int>(params_.size());
  std::vector<const char*> values(params_.size());
  std::vector<int> lengths(params_.size());
  std::vector<int> formats(params_.size());
  std::vector<unsigned> types(params_.size());
  for (std::size_t i = 0; i < params_.size(); ++i) {
    values[i] = params_[i].null ? nullptr : params_[i].value.data();
    lengths[i] = static_cast<int>(params_[i].value.size());
    formats[i] = params_[i].binary ? 1 : 0;
    types[i] = params_[i].type;
  }
  PGconn* raw = conn_->raw();
  if (stream_) {
    // A cursor, fetched in batches: between two batches the connection is
    // free, so a caller's callback may run other statements of the
    // transaction (single-row mode would hold the connection to the end).
    cursor_ = conn_->next_cursor();
    const std::string declare = "DECLARE " + cursor_ + " NO SCROLL CURSOR FOR " + sql_;
    ResultPtr res(::PQexecParams(raw, declare.c_str(), n, types.data(), values.data(),
                                 lengths.data(), formats.data(), 1));
    if (::PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
      done_ = true;
      return fail(conn_->error("query", res.get()));
    }
    return {};
  }
  CK_ASSIGN(const auto name, conn_->prepared(sql_, n, types.data()));
  result_.reset(
      ::PQexecPrepared(raw, name.c_str(), n, values.data(), lengths.data(), formats.data(), 1));
  const auto st = ::PQresultStatus(result_.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    done_ = true;
    return fail(conn_->error("query", result_.get()));
  }
  const char* tuples = ::PQcmdTuples(result_.get());
  changes_ = (tuples != nullptr && *tuples != '\0') ? std::stoll(tuples) : 0;
  done_ = true;  // every row is in result_
  return {};
}

Result<bool> Statement::step() {
  if (!started_) {
    CK_TRY(start());
  }
  ++row_;
  if (result_ && row_ < ::PQntuples(result_.get()))
    return true;
  if (!stream_ || done_)
    return false;
  // The next batch of the cursor.
  const std::string fetch = "FETCH FORWARD " + std::to_string(kFetchRows) + " FROM " + cursor_;
  result_.reset(
      ::PQexecParams(conn_->raw(), fetch.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 1));
  if (::PQresultStatus(result_.get()) != PGRES_TUPLES_OK) {
    done_ = true;
    return fail(conn_->error("query", result_.get()));
  }
  row_ = 0;
  if (::PQntuples(result_.get()) == 0) {
    drain();
    return false;
  }
  return true;
}

Status Statement::run() {
  for (;;) {
    CK_ASSIGN(const bool row, step());
    if (!row)
      return {};
  }
}

std::int64_t Statement::int64(int col) const {
  PGresult* r = result_.get();
  if (::PQgetisnull(r, row_, col) != 0)
    return 0;
  const char* p = ::PQgetvalue(r, row_, col);
  const int len = ::PQgetlength(r, row_, col);
  // Binary integers of any width are big-endian; a boolean is one byte.
  if (::PQftype(r, col) == kBoolOid)
    return len > 0 && p[0] != 0 ? 1 : 0;
  return be_int(p, len);
}

std::string_view Statement::text_view(int col) const {
  PGresult* r = result_.get();
  if (::PQgetisnull(r, row_, col) != 0)
    return {};
  return {::PQgetvalue(r, row_, col), static_cast<std::size_t>(::PQgetlength(r, row_, col))};
}

bool Statement::is_null(int col) const {
  return ::PQgetisnull(result_.get(), row_, col) != 0;
}

}  // namespace ck::store::postgres
