//===- KernelAttrs.td - qk attributes ----------------------*- tablegen -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_KERNEL_IR_KERNELATTRS_TD
#define QOPT_DIALECT_KERNEL_IR_KERNELATTRS_TD

include "qopt/Dialect/Kernel/IR/KernelBase.td"

def QK_TileAttr : QK_Attr<"Tile", "tile"> {
  let summary = "The thread-block tile of a GEMM";
  let description = [{
    A thread block computes `bm x bn` outputs with `warps_m x warps_n`
    warps, stepping K by `bk` through `stages` shared-memory buffers.

    ```mlir
    #qk.tile<bm = 64, bn = 64, bk = 64, warps_m = 2, warps_n = 2, stages = 2>
    ```
  }];
  let parameters = (ins "int64_t":$bm, "int64_t":$bn, "int64_t":$bk,
                        "int64_t":$warps_m, "int64_t":$warps_n,
                        "int64_t":$stages);
  let assemblyFormat = [{
    `<` `bm` `=` $bm `,` `bn` `=` $bn `,` `bk` `=` $bk `,`
    `warps_m` `=` $warps_m `,` `warps_n` `=` $warps_n `,`
    `stages` `=` $stages `>`
  }];
}

def QK_GemvAttr : QK_Attr<"Gemv", "gemv"> {
  let summary = "The small-M (decode) kernels of a GEMM";
  let description = [{
    Besides its tiled tensor-core kernel, a GEMM with this attribute gets
    one weight-streaming kernel per entry of `rows`: a launch of `m <= r`
    tokens runs the kernel of the smallest such `r` (and a larger launch
    the tiled kernel). A block of `warps` warps computes `warps / k_split`
    pairs of output columns for up to `r` rows; `k_split` warps share each
    pair's K and add their sums through shared memory.

    ```mlir
    #qk.gemv<rows = [1, 16], warps = 8, k_split = 2>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"int64_t">:$rows, "int64_t":$warps,
                        "int64_t":$k_split);
  let assemblyFormat = [{
    `<` `rows` `=` `[` $rows `]` `,` `warps` `=` $warps `,`
    `k_split` `=` $k_split `>`
  }];
  let genVerifyDecl = 1;
}

def QK_WgmmaAttr : QK_Attr<"Wgmma", "wgmma"> {
  let summary = "The sm_90a warpgroup-MMA kernel of a GEMM";
  let description = [{
    Launches of at least `min_rows` tokens of a GEMM with this attribute
    run a kernel whose `bm / 64` warpgroups compute a `bm x bn` output tile
    with `wgmma.mma_async`, both operands read from `stages` shared-memory
    buffers of 128 bytes of K each (128-byte swizzle), filled by cp.async;
    smaller launches run the `tile` kernel (and the `gemv` ones). With
    `small_rows` > 0, launches of `min_rows` to `small_rows` tokens run a
    variant of one warpgroup (64 x `bn`, `small_stages` buffers): twice
    the blocks of the grid, deeper copies, for the weight-bound shapes of
    few tokens. For bf16, s8 and e4m3 operands on sm_90a only.

    Hopper's e4m3 wgmma keeps fewer bits in its accumulator than float32,
    so e4m3 GEMMs without block scales move their sums into float32
    registers every 128 of K (as block-scaled ones do every block);
    `fast_accum = true` keeps them in the wgmma accumulator for all of K
    (faster, about 1e-3 relative error at K = 14336).

    ```mlir
    #qk.wgmma<bm = 128, bn = 128, stages = 7, min_rows = 2, small_rows = 64, small_stages = 8>
    ```
  }];
  let parameters = (ins "int64_t":$bm, "int64_t":$bn, "int64_t":$stages,
                        "int64_t":$min_rows, "int64_t":$small_rows,
                        "int64_t":$small_stages,
                        DefaultValuedParameter<"bool", "false">:$fast_accum);
  let assemblyFormat = [{
    `<` `bm` `=` $bm `,` `bn` `=` $bn `,` `stages` `=` $stages `,`
    `min_rows` `=` $min_rows `,` `small_rows` `=` $small_rows `,`
    `small_stages` `=` $small_stages (`,` `fast_accum` `=` $fast_accum^)? `>`
  }];
  let genVerifyDecl = 1;
}

def QK_LaunchAttr : QK_Attr<"Launch", "launch"> {
  let summary = "How a generated kernel is launched";
  let description = [{
    The block size and dynamic shared memory are fixed; the grid has
    `ceil(m / token_tile) * per_tile` blocks in x for a launch of `m` rows
    (`per_tile` blocks when `token_tile` is 0), times `grid_y` and `grid_z`.

    ```mlir
    #qk.launch<block = [128, 1, 1], token_tile = 64, per_tile = 1, grid_y = 6, grid_z = 1, shared_bytes = 16384>
    ```
  }];
  let parameters = (ins "::mlir::DenseI64ArrayAttr":$block,
                        "int64_t":$token_tile, "int64_t":$per_tile,
                        "int64_t":$grid_y, "int64_t":$grid_z,
                        "int64_t":$shared_bytes);
  let assemblyFormat = [{
    `<` `block` `=` $block `,` `token_tile` `=` $token_tile `,`
    `per_tile` `=` $per_tile `,` `grid_y` `=` $grid_y `,`
    `grid_z` `=` $grid_z `,` `shared_bytes` `=` $shared_bytes `>`
  }];
}

#endif // QOPT_DIALECT_KERNEL_IR_KERNELATTRS_TD
