// Clang's thread-safety annotations (clang.llvm.org/docs/ThreadSafetyAnalysis.html),
// as LevelDB's port/thread_annotations.h and Abseil's thread_annotations.h use
// them. Checked when built with clang and -Wthread-safety (CMakeLists.txt adds
// it to every clang build, and the fuzz build in scripts/test.sh is one); empty
// for other compilers. Use with basalt::Mutex (engine/base/mutex.h): the
// standard library's mutexes carry no annotations in libstdc++.
#pragma once

#if defined(__clang__)
#define BASALT_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define BASALT_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) BASALT_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY BASALT_THREAD_ANNOTATION(scoped_lockable)
// The field may be read or written only with the capability held.
#define GUARDED_BY(x) BASALT_THREAD_ANNOTATION(guarded_by(x))
// What the pointer points to is guarded (the pointer itself is not).
#define PT_GUARDED_BY(x) BASALT_THREAD_ANNOTATION(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) BASALT_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) BASALT_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
// The caller must hold the capability (and still holds it on return).
#define REQUIRES(...) BASALT_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
// The caller must not hold it (the function takes it).
#define EXCLUDES(...) BASALT_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) BASALT_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) BASALT_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) BASALT_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) BASALT_THREAD_ANNOTATION(assert_capability(x))
#define RETURN_CAPABILITY(x) BASALT_THREAD_ANNOTATION(lock_returned(x))
// For the few places the analysis cannot follow; each use says why.
#define NO_THREAD_SAFETY_ANALYSIS BASALT_THREAD_ANNOTATION(no_thread_safety_analysis)
