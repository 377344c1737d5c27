#pragma once
// Counter-based random numbers (Philox4x32-10, Salmon et al., SC'11), the same
// function on the host and on the device. A sequence's draw for its k-th sampled
// token is philox_uniform(seed, k): it depends on nothing else, so a sequence
// replays identically on any executor, batch composition or worker.
#include <cstdint>

#if defined(__CUDACC__)
#define TROUPE_HD __host__ __device__ __forceinline__
#else
#define TROUPE_HD inline
#endif

namespace troupe::gpu {

struct philox_out {
  uint32_t v[4];
};

TROUPE_HD uint32_t philox_mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
  const uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  *hi = static_cast<uint32_t>(p >> 32);
  return static_cast<uint32_t>(p);
}

// Philox4x32 with 10 rounds; key = 64-bit seed, counter = (lo, hi, stream, 0).
TROUPE_HD philox_out philox4x32_10(uint64_t seed, uint64_t counter, uint32_t stream) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32);
  uint32_t c2 = stream, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, hi1;
    const uint32_t lo0 = philox_mulhilo(0xD2511F53u, c0, &hi0);
    const uint32_t lo1 = philox_mulhilo(0xCD9E8D57u, c2, &hi1);
    const uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return philox_out{{c0, c1, c2, c3}};
}

// A float in [0, 1) with 24 random bits: exact in fp32 on every executor.
TROUPE_HD float philox_uniform(uint64_t seed, uint64_t step) {
  const philox_out r = philox4x32_10(seed, step, 0);
  return static_cast<float>(r.v[0] >> 8) * (1.0f / 16777216.0f);
}

}  // namespace troupe::gpu
