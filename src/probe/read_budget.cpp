#include "probe/read_budget.h"

#include <algorithm>
#include <climits>

namespace ck::probe {
namespace {

struct Budget {
  std::size_t event_left = kReadPerEvent;
  std::size_t handshake_left = kReadPerHandshake;
  BudgetStop stop = BudgetStop::None;
};

Budget* budget_of(BIO* b) {
  return static_cast<Budget*>(::BIO_get_data(b));
}

int budget_create(BIO* b) {
  ::BIO_set_data(b, nullptr);
  ::BIO_set_init(b, 1);
  return 1;
}

int budget_destroy(BIO* b) {
  delete budget_of(b);
  ::BIO_set_data(b, nullptr);
  return 1;
}

// Bytes straight from the socket BIO into OpenSSL's buffer: no copy of ours.
int budget_read(BIO* b, char* out, int len) {
  ::BIO_clear_retry_flags(b);
  Budget* budget = budget_of(b);
  BIO* next = ::BIO_next(b);
  if (budget == nullptr || next == nullptr || out == nullptr || len <= 0)
    return 0;
  if (budget->handshake_left == 0 || budget->event_left == 0) {
    budget->stop = budget->handshake_left == 0 ? BudgetStop::Handshake : BudgetStop::Event;
    ::BIO_set_retry_read(b);
    return -1;
  }
  const std::size_t want =
      std::min({static_cast<std::size_t>(len), budget->event_left, budget->handshake_left});
  const int n = ::BIO_read(next, out, static_cast<int>(want));
  if (n > 0) {
    budget->event_left -= static_cast<std::size_t>(n);
    budget->handshake_left -= static_cast<std::size_t>(n);
  } else {
    ::BIO_copy_next_retry(b);
  }
  return n;
}

int budget_write(BIO* b, const char* in, int len) {
  ::BIO_clear_retry_flags(b);
  BIO* next = ::BIO_next(b);
  if (next == nullptr)
    return 0;
  const int n = ::BIO_write(next, in, len);
  if (n <= 0)
    ::BIO_copy_next_retry(b);
  return n;
}

long budget_ctrl(BIO* b, int cmd, long num, void* ptr) {
  BIO* next = ::BIO_next(b);
  return next == nullptr ? 0 : ::BIO_ctrl(next, cmd, num, ptr);
}

long budget_callback_ctrl(BIO* b, int cmd, BIO_info_cb* fp) {
  BIO* next = ::BIO_next(b);
  return next == nullptr ? 0 : ::BIO_callback_ctrl(next, cmd, fp);
}

// One method for the process, made on first use; OpenSSL keeps a pointer to
// it in every BIO, so it lives until exit.
const BIO_METHOD* budget_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = ::BIO_meth_new(::BIO_get_new_index() | BIO_TYPE_FILTER, "ck read budget");
    if (m != nullptr) {
      ::BIO_meth_set_create(m, budget_create);
      ::BIO_meth_set_destroy(m, budget_destroy);
      ::BIO_meth_set_read(m, budget_read);
      ::BIO_meth_set_write(m, budget_write);
      ::BIO_meth_set_ctrl(m, budget_ctrl);
      ::BIO_meth_set_callback_ctrl(m, budget_callback_ctrl);
    }
    return m;
  }();
  return method;
}

}  // namespace

BioPtr read_budget_bio(BioPtr next) {
  const BIO_METHOD* method = budget_method();
  if (method == nullptr || !next)
    return nullptr;
  BioPtr filter(::BIO_new(method));
  if (!filter)
    return nullptr;
  ::BIO_set_data(filter.get(), new Budget);
  ::BIO_push(filter.get(), next.release());
  return filter;
}

void begin_read_event(BIO* budget) {
  if (Budget* b = budget_of(budget)) {
    b->event_left = kReadPerEvent;
    b->stop = BudgetStop::None;
  }
}

BudgetStop read_budget_stop(BIO* budget) {
  const Budget* b = budget_of(budget);
  return b != nullptr ? b->stop : BudgetStop::None;
}

}  // namespace ck::probe
