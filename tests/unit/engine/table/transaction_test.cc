// Transactions of the table layer (engine/table/transaction.h,
// client_tokens.h): all-or-nothing commits across tables, conflicts with a
// running transaction (made deterministic with TableStoreOptions::
// transaction_hook), and client tokens (replay, mismatch, in progress, the
// window, trimming, durability across a reopen).
#include "engine/table/transaction.h"

#include <doctest/doctest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "engine/table/table_store.h"
#include "tests/testutil/gate.h"
#include "tests/testutil/table_test_util.h"
#include "tests/testutil/temp_dir.h"

using namespace basalt;
using namespace basalt::table;
using test::Key;
using test::MakeItem;
using test::Num;
using test::Ok;
using test::S;

namespace {

Item Row(const std::string& pk, int64_t v) { return MakeItem({{"pk", S(pk)}, {"v", Num(v)}}); }

struct Fixture {
  test::TempDir dir;
  test::FakeClock clock;
  test::Gate gate;
  std::unique_ptr<TableStore> ts;

  Fixture() {
    Open();
    Ok(ts->CreateTable(test::Def("a")));
    Ok(ts->CreateTable(test::Def("b")));
  }
  void Open() {
    TableStoreOptions o = test::StoreOptions(dir.path(), 2);
    clock.Attach(&o);
    o.client_token_window_ms = 600000;
    o.transaction_hook = [this] { gate.Hook(); };
    ts = test::OpenStore(o);
  }
  void Reopen() {
    Ok(ts->Close());
    ts.reset();
    Open();
  }
  TxnAction Action(const std::string& table, const std::string& pk,
                   std::function<Decision(const Item*)> decide) {
    TxnAction a;
    Ok(ts->Resolve(table, &a.table));
    Ok(a.table->LocateKey(Key(pk), &a.key));
    a.decide = std::move(decide);
    return a;
  }
  // Adds `delta` to v of (table, pk), creating the item at 0.
  TxnAction Add(const std::string& table, const std::string& pk, int64_t delta) {
    return Action(table, pk, [pk, delta](const Item* old) {
      int64_t v = 0;
      if (old != nullptr) v = std::stoll(old->Find("v")->n().ToString());
      return Decision::Put(Row(pk, v + delta));
    });
  }
  std::optional<Item> Get(const std::string& table, const std::string& pk) {
    std::optional<Item> out;
    Ok(ts->GetItem(table, Key(pk), nullptr, &out));
    return out;
  }
};

TxnRequest Request(std::vector<TxnAction> actions, std::string token = {},
                   std::string fingerprint = {}) {
  TxnRequest r;
  r.actions = std::move(actions);
  r.client_token = std::move(token);
  r.fingerprint = std::move(fingerprint);
  return r;
}

}  // namespace

TEST_CASE("transactions: all actions commit together across tables, or none") {
  Fixture f;
  TxnResult r;
  Ok(f.ts->TransactWrite(Request({f.Add("a", "x", 5), f.Add("b", "y", 7)}), &r));
  CHECK(r.committed);
  CHECK(!r.replayed);
  REQUIRE(r.outcomes.size() == 2);
  CHECK(r.outcomes[0] == Decision::Kind::kPut);
  CHECK(*f.Get("a", "x") == Row("x", 5));
  CHECK(*f.Get("b", "y") == Row("y", 7));

  // The second action's condition fails: the first is not applied either.
  Ok(f.ts->TransactWrite(
      Request({f.Add("a", "x", 1),
               f.Action("b", "y", [](const Item*) { return Decision::ConditionFailed(); })}),
      &r));
  CHECK(!r.committed);
  CHECK(r.outcomes[1] == Decision::Kind::kConditionFailed);
  REQUIRE(r.old_items[1].has_value());
  CHECK(*f.Get("a", "x") == Row("x", 5));

  // A write that the write path refuses names its action.
  Status s = f.ts->TransactWrite(
      Request({f.Add("a", "x", 1),
               f.Action("b", "y", [](const Item*) { return Decision::Put(Row("other", 1)); })}),
      &r);
  CHECK(s.IsInvalidArgument());
  REQUIRE(r.failed_action.has_value());
  CHECK(*r.failed_action == 1);
  CHECK(*f.Get("a", "x") == Row("x", 5));

  // Two actions on one item.
  s = f.ts->TransactWrite(Request({f.Add("a", "x", 1), f.Add("a", "x", 1)}), &r);
  CHECK(s.Is(Status::SubCode::kDuplicateKeys));
}

TEST_CASE("transactions: a running transaction's items conflict with other requests") {
  Fixture f;
  f.gate.Arm();
  auto first = std::async(std::launch::async, [&] {
    TxnResult r;
    Status s =
        f.ts->TransactWrite(Request({f.Add("a", "x", 1), f.Add("b", "y", 1)}, "tok", "fp"), &r);
    return s.ok() && r.committed;
  });
  f.gate.WaitEntered();

  // Another transaction naming one of its items is refused, naming it.
  TxnResult r;
  Status s = f.ts->TransactWrite(Request({f.Add("a", "z", 1), f.Add("b", "y", 1)}), &r);
  CHECK(s.Is(Status::SubCode::kTransactionConflict));
  CHECK(r.conflicts == std::vector<size_t>{1});
  CHECK(!f.Get("a", "z").has_value());  // nothing of it was written

  // A transaction on other items runs.
  Ok(f.ts->TransactWrite(Request({f.Add("a", "w", 1)}), &r));
  CHECK(r.committed);

  // Single writes ask first.
  TxnAction probe = f.Add("b", "y", 0);
  CHECK(f.ts->TransactionHolds(*probe.table, probe.key));
  TxnAction other = f.Add("b", "q", 0);
  CHECK(!f.ts->TransactionHolds(*other.table, other.key));

  // TransactGet of a held item is refused.
  std::vector<std::pair<TableRef, ItemKey>> keys{{other.table, other.key},
                                                 {probe.table, probe.key}};
  std::vector<std::optional<Item>> items;
  std::vector<size_t> conflicts;
  CHECK(f.ts->TransactGet(keys, &items, &conflicts).Is(Status::SubCode::kTransactionConflict));
  CHECK(conflicts == std::vector<size_t>{1});

  // The same token while the first call runs.
  s = f.ts->TransactWrite(Request({f.Add("a", "v", 1)}, "tok", "fp"), &r);
  CHECK(s.Is(Status::SubCode::kTransactionInProgress));

  f.gate.Release();
  CHECK(first.get());
  CHECK(*f.Get("b", "y") == Row("y", 1));
  CHECK(!f.ts->TransactionHolds(*probe.table, probe.key));
  Ok(f.ts->TransactGet(keys, &items, &conflicts));
  REQUIRE(items[1].has_value());
  CHECK(*items[1] == Row("y", 1));
  CHECK(!items[0].has_value());
}

TEST_CASE("transactions: client tokens replay, mismatch, expire and survive a reopen") {
  Fixture f;
  TxnResult r;
  Ok(f.ts->TransactWrite(Request({f.Add("a", "x", 1)}, "tok", "fp1"), &r));
  CHECK(r.committed);
  CHECK(!r.replayed);

  // The same token and request: success, nothing applied (decide not called).
  int calls = 0;
  Ok(f.ts->TransactWrite(Request({f.Action("a", "x",
                                           [&](const Item*) {
                                             calls++;
                                             return Decision::Delete();
                                           })},
                                 "tok", "fp1"),
                         &r));
  CHECK(r.replayed);
  CHECK(calls == 0);
  CHECK(*f.Get("a", "x") == Row("x", 1));

  // Another request with the token.
  Status s = f.ts->TransactWrite(Request({f.Add("a", "x", 1)}, "tok", "fp2"), &r);
  CHECK(s.Is(Status::SubCode::kIdempotentMismatch));

  // A cancelled transaction leaves no record: its token runs again.
  Ok(f.ts->TransactWrite(
      Request({f.Action("a", "c", [](const Item*) { return Decision::ConditionFailed(); })}, "tok2",
              "fp"),
      &r));
  CHECK(!r.committed);
  Ok(f.ts->TransactWrite(Request({f.Add("a", "c", 3)}, "tok2", "fp"), &r));
  CHECK(r.committed);
  CHECK(!r.replayed);

  // A transaction that writes nothing (a condition check) records its token.
  Ok(f.ts->TransactWrite(
      Request({f.Action("a", "n", [](const Item*) { return Decision::NoChange(); })}, "tok3", "fp"),
      &r));
  CHECK(r.committed);
  Ok(f.ts->TransactWrite(Request({f.Add("a", "n", 1)}, "tok3", "fp"), &r));
  CHECK(r.replayed);
  CHECK(!f.Get("a", "n").has_value());

  // Durable: after a reopen the token is still known.
  f.Reopen();
  Ok(f.ts->TransactWrite(Request({f.Add("a", "x", 1)}, "tok", "fp1"), &r));
  CHECK(r.replayed);
  CHECK(*f.Get("a", "x") == Row("x", 1));

  // Within the window nothing is trimmed; after it the token is forgotten.
  uint64_t trimmed = 99;
  Ok(f.ts->TrimClientTokens(&trimmed));
  CHECK(trimmed == 0);
  f.clock.ms += 600000;
  Ok(f.ts->TransactWrite(Request({f.Add("a", "x", 1)}, "tok", "fp2"), &r));
  CHECK(r.committed);
  CHECK(!r.replayed);
  CHECK(*f.Get("a", "x") == Row("x", 2));
  Ok(f.ts->TrimClientTokens(&trimmed));
  CHECK(trimmed == 2);  // tok2 and tok3; tok was just written again
  f.clock.ms += 600000;
  Ok(f.ts->TrimClientTokens(&trimmed));
  CHECK(trimmed == 1);
}
