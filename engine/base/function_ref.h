// FunctionRef<R(Args...)>: a non-owning reference to a callable, for
// parameters that are called during the call and not kept (like C++26's
// std::function_ref). Unlike std::function it never allocates, so passing a
// lambda that captures several locals by reference costs nothing on hot paths.
//
// Lifetime: the callable must outlive every call through the FunctionRef;
// binding a temporary lambda to a parameter is fine (it lives until the end of
// the full expression). Do not store a FunctionRef.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace basalt {

template <typename Signature>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, FunctionRef> &&
           std::is_invocable_r_v<R, F&, Args...>) FunctionRef(F&& f)
  noexcept  // NOLINT(google-explicit-constructor): used like a function type
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* o, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

}  // namespace basalt
