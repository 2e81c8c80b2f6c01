//===- SimtQuantMathTest.cpp - The kernels' quantization vs the oracle ----===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The quantization arithmetic the CUDA-core kernel builders emit (int8
// rounding and saturation, the bit-level e4m3 encoder of sm_80 and the e4m3
// decoder of every chip, the per-token dynamic scale), written by the same
// Emitter into host functions, compiled with the JIT and compared bit for
// bit with the reference of the CPU backend (qnum::) over a dense sweep of
// float32 values. The hardware path (cvt.rn.satfinite.e4m3x2.f32) needs a
// GPU and is not covered here.
//
//===----------------------------------------------------------------------===//

#include "GemmInternal.h"
#include "SimtUtils.h"

#include "qopt-runtime/QuantMath.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/TargetSelect.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

using namespace mlir;
using namespace mlir::qopt::codegen;
using namespace mlir::qopt::codegen::simt;

namespace {

constexpr int64_t kCount = (1 << 17) + 4096;
constexpr int64_t kWords = 1 << 16;

/// Host functions of the emitted arithmetic, JIT-compiled:
///   quant(x, i8, asym, e4m3, scale, zp): the three quantizations of x;
///   decode(bits, out): e4m3 bytes to float32;
///   scales(absmax, s127, s448): the dynamic scales for int8 and e4m3;
///   nibbles(bytes, lo, hi): the GEMM's int4x2 unpacking;
///   fields4 / fields8(words, zero points, out): the weight-streaming
///   kernels' decode of packed int4 / int8 fields.
class SimtQuantMath : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  }

  void SetUp() override {
    DialectRegistry registry;
    registry.insert<arith::ArithDialect, func::FuncDialect, gpu::GPUDialect,
                    LLVM::LLVMDialect, memref::MemRefDialect, scf::SCFDialect,
                    vector::VectorDialect>();
    registerBuiltinDialectTranslation(registry);
    registerLLVMDialectTranslation(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();

    ImplicitLocOpBuilder b(UnknownLoc::get(&context), &context);
    module = ModuleOp::create(b);
    b.setInsertionPointToEnd(module->getBody());
    Emitter e(b, Chip::SM80);
    Type f32 = b.getF32Type(), i8 = b.getI8Type();
    Type e4m3 = b.getType<Float8E4M3FNType>();
    auto mem = [](int64_t n, Type t) { return MemRefType::get({n}, t); };

    auto define = [&](StringRef name, ArrayRef<Type> args,
                      function_ref<void(Block &)> body) {
      auto fn = func::FuncOp::create(b, name, b.getFunctionType(args, {}));
      Block *entry = fn.addEntryBlock();
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(entry);
      body(*entry);
      func::ReturnOp::create(b);
    };
    define("quant",
           {mem(kCount, f32), mem(kCount, i8), mem(kCount, i8),
            mem(kCount, e4m3), f32, f32},
           [&](Block &a) {
             e.forLoop(e.idx(0), e.idx(kCount), e.idx(4), [&](Value c) {
               Value x = e.loadF32(a.getArgument(0), {c}, 4);
               Value scale = a.getArgument(4), zp = a.getArgument(5);
               e.storeQuantized(x, a.getArgument(1), {c}, scale, Value());
               e.storeQuantized(x, a.getArgument(2), {c}, scale, zp);
               e.storeQuantized(x, a.getArgument(3), {c}, scale, Value());
             });
           });
    define("decode", {mem(256, e4m3), mem(256, f32)}, [&](Block &a) {
      e.forLoop(e.idx(0), e.idx(256), e.idx(4), [&](Value c) {
        Value v = e.loadDequantized(a.getArgument(0), {c}, 4, Value());
        e.storeVec(v, a.getArgument(1), {c});
      });
    });
    // Two bytes at a time: the decoder's path for vectors of other lengths.
    define("decode2", {mem(256, e4m3), mem(256, f32)}, [&](Block &a) {
      e.forLoop(e.idx(0), e.idx(256), e.idx(2), [&](Value c) {
        Value v = e.loadDequantized(a.getArgument(0), {c}, 2, Value());
        e.storeVec(v, a.getArgument(1), {c});
      });
    });
    // The weight-streaming kernels' e4m3 weights: 16 bytes, times 2^-120.
    define("decodeScaled", {mem(256, i8), mem(256, f32)}, [&](Block &a) {
      e.forLoop(e.idx(0), e.idx(256), e.idx(16), [&](Value c) {
        Value v = e.decodeE4M3Scaled(e.loadVec(a.getArgument(0), {c}, 16));
        e.storeVec(v, a.getArgument(1), {c});
      });
    });
    define("scales", {mem(kCount, f32), mem(kCount, f32), mem(kCount, f32)},
           [&](Block &a) {
             e.forLoop(e.idx(0), e.idx(kCount), e.idx(1), [&](Value c) {
               Value x = e.load(a.getArgument(0), {c});
               e.store(e.dynamicScale(x, 127.0), a.getArgument(1), {c});
               e.store(e.dynamicScale(x, 448.0), a.getArgument(2), {c});
             });
           });
    // The GEMM's int4x2 unpacking (one byte, two i32).
    Type i32 = b.getI32Type();
    define("nibbles", {mem(256, i8), mem(256, i32), mem(256, i32)},
           [&](Block &a) {
             e.forLoop(e.idx(0), e.idx(256), e.idx(1), [&](Value c) {
               Value byte =
                   memref::LoadOp::create(b, a.getArgument(0), ValueRange{c});
               auto [lo, hi] = gemm::unpackInt4(b, byte);
               memref::StoreOp::create(b, lo, a.getArgument(1), ValueRange{c});
               memref::StoreOp::create(b, hi, a.getArgument(2), ValueRange{c});
             });
           });
    // The weight-streaming kernels' integer decode: each word's fields
    // minus the zero point, as f32 (8 int4 or 4 int8 fields a word).
    for (int64_t bits : {4, 8}) {
      int64_t fields = 32 / bits;
      define(bits == 4 ? "fields4" : "fields8",
             {mem(kWords, i32), mem(kWords, f32), mem(kWords * fields, f32)},
             [&](Block &a) {
               e.forLoop(e.idx(0), e.idx(kWords), e.idx(1), [&](Value c) {
                 Value word =
                     memref::LoadOp::create(b, a.getArgument(0), ValueRange{c});
                 Value zp = e.load(a.getArgument(1), {c});
                 double bias = 8388608.0 + (bits == 4 ? 8 : 128);
                 Value offset = e.add(e.f32(bias), zp);
                 SmallVector<Value> out = gemm::decodeIntFields(
                     b, e, word, bits,
                     gemm::intFieldOffsets(b, e, bits, offset));
                 for (int64_t j = 0; j < fields; ++j)
                   e.store(out[j], a.getArgument(2),
                           {arith::AddIOp::create(
                               b, arith::MulIOp::create(b, c, e.idx(fields)),
                               e.idx(j))});
               });
             });
    }
    ASSERT_TRUE(succeeded(verify(*module)));

    PassManager pm(&context);
    pm.addPass(createSCFToControlFlowPass());
    pm.addPass(createConvertVectorToLLVMPass());
    pm.addPass(createFinalizeMemRefToLLVMConversionPass());
    pm.addPass(createArithToLLVMConversionPass());
    pm.addPass(createConvertControlFlowToLLVMPass());
    ConvertFuncToLLVMPassOptions funcOptions;
    funcOptions.useBarePtrCallConv = true;
    pm.addPass(createConvertFuncToLLVMPass(funcOptions));
    pm.addPass(createReconcileUnrealizedCastsPass());
    ASSERT_TRUE(succeeded(pm.run(*module)));

    ExecutionEngineOptions options;
    auto created = ExecutionEngine::create(*module, options);
    ASSERT_TRUE(static_cast<bool>(created))
        << llvm::toString(created.takeError());
    engine = std::move(*created);
  }

  template <typename... Args> void call(StringRef name, Args... args) {
    void *packed[] = {static_cast<void *>(&args)...};
    llvm::Error error = engine->invokePacked(name, packed);
    ASSERT_FALSE(static_cast<bool>(error)) << llvm::toString(std::move(error));
  }

  /// Two float32 bit patterns of each upper half (every sign, exponent and
  /// leading mantissa bits, NaN and infinities included),
  /// plus values on and around the rounding boundaries of both formats.
  static std::vector<float> sweep(float scale) {
    std::vector<float> x;
    x.reserve(kCount);
    for (uint32_t hi = 0; hi < (1u << 16); ++hi)
      for (uint32_t lo : {0x0000u, 0x8001u})
        x.push_back(llvm::bit_cast<float>((hi << 16) | lo));
    // Half-integers and e4m3 midpoints times the scale, and their neighbours.
    for (int i = -300; i <= 300 && x.size() + 3 <= kCount; ++i) {
      float h = (static_cast<float>(i) + 0.5f) * scale;
      x.push_back(h);
      x.push_back(std::nextafter(h, INFINITY));
      x.push_back(std::nextafter(h, -INFINITY));
    }
    for (int bits = 0; bits < 126 && x.size() + 3 <= kCount; ++bits) {
      float lo = qnum::e4m3fnToFloat(static_cast<uint8_t>(bits));
      float hi = qnum::e4m3fnToFloat(static_cast<uint8_t>(bits + 1));
      float mid = 0.5f * (lo + hi) * scale;
      x.push_back(mid);
      x.push_back(-mid);
      x.push_back(std::nextafter(mid, INFINITY));
    }
    for (float v : {448.0f, 464.0f, 480.0f, 1e6f, 127.5f, 128.0f, -128.5f})
      x.push_back(v * scale);
    while (x.size() < kCount)
      x.push_back(0.0f);
    return x;
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  std::unique_ptr<ExecutionEngine> engine;
};

TEST_F(SimtQuantMath, QuantizeMatchesReference) {
  for (float scale : {1.0f, 0.37f, 3.5e-3f, 7.25f}) {
    for (float zp : {-5.0f, 17.0f}) {
      std::vector<float> x = sweep(scale);
      std::vector<int8_t> sym(kCount), asym(kCount);
      std::vector<uint8_t> fp8(kCount);
      call("quant", x.data(), sym.data(), asym.data(), fp8.data(), scale, zp);
      int symBad = 0, asymBad = 0, fp8Bad = 0;
      for (int64_t i = 0; i < kCount; ++i) {
        int32_t s = qnum::quantizeInt(x[i], scale, 0, -127, 127);
        int32_t a =
            qnum::quantizeInt(x[i], scale, static_cast<int32_t>(zp), -128, 127);
        uint8_t f = qnum::floatToE4M3FN(x[i] / scale);
        if (sym[i] != s && symBad++ < 5)
          ADD_FAILURE() << "i8 of " << x[i] << " / " << scale << ": "
                        << int(sym[i]) << ", reference " << s;
        if (asym[i] != a && asymBad++ < 5)
          ADD_FAILURE() << "i8 of " << x[i] << " / " << scale << " + " << zp
                        << ": " << int(asym[i]) << ", reference " << a;
        if (fp8[i] != f && fp8Bad++ < 5)
          ADD_FAILURE() << "e4m3 of " << x[i] << " / " << scale << ": 0x"
                        << std::hex << int(fp8[i]) << ", reference 0x" << int(f)
                        << std::dec;
      }
      EXPECT_EQ(symBad + asymBad + fp8Bad, 0) << "scale " << scale;
    }
  }
}

TEST_F(SimtQuantMath, DecodeMatchesReference) {
  std::vector<uint8_t> bits(256);
  for (int i = 0; i < 256; ++i)
    bits[i] = static_cast<uint8_t>(i);
  std::vector<float> out(256);
  call("decode", bits.data(), out.data());
  for (int i = 0; i < 256; ++i) {
    float ref = qnum::e4m3fnToFloat(static_cast<uint8_t>(i));
    if (std::isnan(ref))
      EXPECT_TRUE(std::isnan(out[i])) << "byte " << i;
    else
      EXPECT_EQ(llvm::bit_cast<uint32_t>(out[i]), llvm::bit_cast<uint32_t>(ref))
          << "byte " << i << ": " << out[i] << ", reference " << ref;
  }
}

TEST_F(SimtQuantMath, DecodeOfTwoMatchesReference) {
  std::vector<uint8_t> bits(256);
  for (int i = 0; i < 256; ++i)
    bits[i] = static_cast<uint8_t>(i);
  std::vector<float> out(256);
  call("decode2", bits.data(), out.data());
  for (int i = 0; i < 256; ++i) {
    float ref = qnum::e4m3fnToFloat(static_cast<uint8_t>(i));
    if (std::isnan(ref))
      EXPECT_TRUE(std::isnan(out[i])) << "byte " << i;
    else
      EXPECT_EQ(llvm::bit_cast<uint32_t>(out[i]), llvm::bit_cast<uint32_t>(ref))
          << "byte " << i;
  }
}

// Every byte at every position of its word: the value times 2^-120 exactly
// (subnormal float32 for the e4m3 subnormals), NaN codes as +-480 * 2^-120.
TEST_F(SimtQuantMath, ScaledDecodeIsExact) {
  std::vector<uint8_t> bits(256);
  // A permutation, so that each byte value meets each position of a word.
  for (int i = 0; i < 256; ++i)
    bits[i] = static_cast<uint8_t>((i * 37) & 0xFF);
  for (int shift = 0; shift < 4; ++shift) {
    std::vector<uint8_t> in(256);
    for (int i = 0; i < 256; ++i)
      in[i] = bits[(i + shift) & 0xFF];
    std::vector<float> out(256);
    call("decodeScaled", in.data(), out.data());
    for (int i = 0; i < 256; ++i) {
      double ref = qnum::e4m3fnToFloat(in[i]);
      if (std::isnan(ref))
        ref = (in[i] & 0x80) ? -480.0 : 480.0;
      EXPECT_EQ(static_cast<double>(out[i]), std::ldexp(ref, -120))
          << "byte " << int(in[i]) << " at position " << i % 4;
    }
  }
}

TEST_F(SimtQuantMath, DynamicScaleMatchesReference) {
  std::vector<float> absmax = sweep(1.0f);
  for (float &v : absmax)
    v = std::fabs(v);
  absmax[0] = 0.0f;
  absmax[1] = std::numeric_limits<float>::infinity();
  absmax[2] = std::numeric_limits<float>::quiet_NaN();
  absmax[3] = std::numeric_limits<float>::denorm_min();
  std::vector<float> s127(kCount), s448(kCount);
  call("scales", absmax.data(), s127.data(), s448.data());
  int bad = 0;
  for (int64_t i = 0; i < kCount; ++i) {
    float r127 = qnum::symmetricScale(absmax[i], 127.0);
    float r448 = qnum::symmetricScale(absmax[i], 448.0);
    if ((s127[i] != r127 || s448[i] != r448) && bad++ < 5)
      ADD_FAILURE() << "scale of " << absmax[i] << ": " << s127[i] << " / "
                    << s448[i] << ", reference " << r127 << " / " << r448;
  }
  EXPECT_EQ(bad, 0);
}

} // namespace

namespace {
TEST_F(SimtQuantMath, Int4UnpackMatchesReference) {
  std::vector<uint8_t> bytes(256);
  for (int i = 0; i < 256; ++i)
    bytes[i] = static_cast<uint8_t>(i);
  std::vector<int32_t> lo(256), hi(256);
  call("nibbles", bytes.data(), lo.data(), hi.data());
  std::vector<int8_t> ref = qnum::unpackInt4x2(bytes, 512);
  for (int i = 0; i < 256; ++i) {
    EXPECT_EQ(lo[i], ref[2 * i]) << "low nibble of byte " << i;
    EXPECT_EQ(hi[i], ref[2 * i + 1]) << "high nibble of byte " << i;
  }
}
TEST_F(SimtQuantMath, WeightFieldsDecodeExactly) {
  // Fresh random words and zero points (int4: asymmetric zero points span
  // the unsigned range 0..15 too; int8: -128..127), against the fields read
  // as two's complement minus the zero point.
  std::mt19937 rng(std::random_device{}());
  for (int64_t bits : {4, 8}) {
    int64_t fields = 32 / bits;
    std::vector<int32_t> words(kWords);
    std::vector<float> zps(kWords), out(kWords * fields);
    int lo = bits == 4 ? -8 : -128, hi = bits == 4 ? 15 : 127;
    std::uniform_int_distribution<int> zp(lo, hi);
    for (int64_t i = 0; i < kWords; ++i) {
      words[i] = static_cast<int32_t>(rng());
      zps[i] = static_cast<float>(i < 4 ? (i % 2 ? lo : hi) : zp(rng));
    }
    words[0] = 0;
    words[1] = -1;
    words[2] = static_cast<int32_t>(bits == 4 ? 0x88888888u : 0x80808080u);
    words[3] = static_cast<int32_t>(bits == 4 ? 0x77777777u : 0x7F7F7F7Fu);
    call(bits == 4 ? "fields4" : "fields8", words.data(), zps.data(),
         out.data());
    int64_t wrong = 0;
    for (int64_t i = 0; i < kWords; ++i)
      for (int64_t j = 0; j < fields; ++j) {
        uint32_t u = static_cast<uint32_t>(words[i]) >> (bits * j);
        int64_t field = static_cast<int64_t>(u & ((1u << bits) - 1));
        if (field >= (1 << (bits - 1)))
          field -= 1 << bits;
        double want = static_cast<double>(field) - zps[i];
        if (out[i * fields + j] != want && wrong++ < 8)
          ADD_FAILURE() << bits << "-bit field " << j << " of word 0x"
                        << std::hex << static_cast<uint32_t>(words[i])
                        << std::dec << " with zero point " << zps[i] << ": "
                        << out[i * fields + j] << ", expected " << want;
      }
    EXPECT_EQ(wrong, 0) << bits << "-bit fields wrong";
  }
}
} // namespace
