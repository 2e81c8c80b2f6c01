module attributes {qopt.model = #qopt.model<architecture = "llama", checkpoint = "../../shared/models/qopt-tiny-llama/model.safetensors.index.json", tokenizer = "../../shared/models/qopt-tiny-llama/tokenizer.json", vocab_size = 32000, max_position_embeddings = 1024, bos_token_id = 1, eos_token_id = 2>} {
  qopt.weight_store @ckpt "../../shared/models/qopt-tiny-llama/model.safetensors.index.json"
  func.func @forward(%arg0: tensor<?xi32>, %arg1: tensor<?xi32>) -> tensor<?x32000xf32> {
    %0 = qopt.weight @ckpt["model.embed_tokens.weight"] : tensor<32000x384xbf16>
    %1 = qopt.embedding %0[%arg0] : (tensor<32000x384xbf16>, tensor<?xi32>) -> tensor<?x384xf32>
    %2 = qopt.weight @ckpt["model.layers.0.input_layernorm.weight"] : tensor<384xbf16>
    %3 = qopt.rms_norm %1, %2 {epsilon = 1.000000e-05 : f64} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %4 = qopt.weight @ckpt["model.layers.0.self_attn.q_proj.weight"] : tensor<384x384xbf16>
    %5 = qopt.linear %3, %4 {label = "model.layers.0.self_attn.q_proj", role = #qopt<role q_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %6 = qopt.weight @ckpt["model.layers.0.self_attn.k_proj.weight"] : tensor<128x384xbf16>
    %7 = qopt.linear %3, %6 {label = "model.layers.0.self_attn.k_proj", role = #qopt<role k_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %8 = qopt.weight @ckpt["model.layers.0.self_attn.v_proj.weight"] : tensor<128x384xbf16>
    %9 = qopt.linear %3, %8 {label = "model.layers.0.self_attn.v_proj", role = #qopt<role v_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %10 = qopt.rope %5, %arg1 {head_dim = 64 : i64, num_heads = 6 : i64, theta = 1.000000e+04 : f64} : (tensor<?x384xf32>, tensor<?xi32>) -> tensor<?x384xf32>
    %11 = qopt.rope %7, %arg1 {head_dim = 64 : i64, num_heads = 2 : i64, theta = 1.000000e+04 : f64} : (tensor<?x128xf32>, tensor<?xi32>) -> tensor<?x128xf32>
    %12 = qopt.attention %10, %11, %9 {head_dim = 64 : i64, layer = 0 : i64, num_heads = 6 : i64, num_kv_heads = 2 : i64} : (tensor<?x384xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x384xf32>
    %13 = qopt.weight @ckpt["model.layers.0.self_attn.o_proj.weight"] : tensor<384x384xbf16>
    %14 = qopt.linear %12, %13 {label = "model.layers.0.self_attn.o_proj", role = #qopt<role o_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %15 = qopt.add %1, %14 : tensor<?x384xf32>
    %16 = qopt.weight @ckpt["model.layers.0.post_attention_layernorm.weight"] : tensor<384xbf16>
    %17 = qopt.rms_norm %15, %16 {epsilon = 1.000000e-05 : f64} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %18 = qopt.weight @ckpt["model.layers.0.mlp.gate_proj.weight"] : tensor<1024x384xbf16>
    %19 = qopt.linear %17, %18 {label = "model.layers.0.mlp.gate_proj", role = #qopt<role gate_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %20 = qopt.weight @ckpt["model.layers.0.mlp.up_proj.weight"] : tensor<1024x384xbf16>
    %21 = qopt.linear %17, %20 {label = "model.layers.0.mlp.up_proj", role = #qopt<role up_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %22 = qopt.silu %19 : tensor<?x1024xf32>
    %23 = qopt.mul %22, %21 : tensor<?x1024xf32>
    %24 = qopt.weight @ckpt["model.layers.0.mlp.down_proj.weight"] : tensor<384x1024xbf16>
    %25 = qopt.linear %23, %24 {label = "model.layers.0.mlp.down_proj", role = #qopt<role down_proj>} : (tensor<?x1024xf32>, tensor<384x1024xbf16>) -> tensor<?x384xf32>
    %26 = qopt.add %15, %25 : tensor<?x384xf32>
    %27 = qopt.weight @ckpt["model.layers.1.input_layernorm.weight"] : tensor<384xbf16>
    %28 = qopt.rms_norm %26, %27 {epsilon = 1.000000e-05 : f64} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %29 = qopt.weight @ckpt["model.layers.1.self_attn.q_proj.weight"] : tensor<384x384xbf16>
    %30 = qopt.linear %28, %29 {label = "model.layers.1.self_attn.q_proj", role = #qopt<role q_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %31 = qopt.weight @ckpt["model.layers.1.self_attn.k_proj.weight"] : tensor<128x384xbf16>
    %32 = qopt.linear %28, %31 {label = "model.layers.1.self_attn.k_proj", role = #qopt<role k_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %33 = qopt.weight @ckpt["model.layers.1.self_attn.v_proj.weight"] : tensor<128x384xbf16>
    %34 = qopt.linear %28, %33 {label = "model.layers.1.self_attn.v_proj", role = #qopt<role v_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %35 = qopt.rope %30, %arg1 {head_dim = 64 : i64, num_heads = 6 : i64, theta = 1.000000e+04 : f64} : (tensor<?x384xf32>, tensor<?xi32>) -> tensor<?x384xf32>
    %36 = qopt.rope %32, %arg1 {head_dim = 64 : i64, num_heads = 2 : i64, theta = 1.000000e+04 : f64} : (tensor<?x128xf32>, tensor<?xi32>) -> tensor<?x128xf32>
    %37 = qopt.attention %35, %36, %34 {head_dim = 64 : i64, layer = 1 : i64, num_heads = 6 : i64, num_kv_heads = 2 : i64} : (tensor<?x384xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x384xf32>
    %38 = qopt.weight @ckpt["model.layers.1.self_attn.o_proj.weight"] : tensor<384x384xbf16>
    %39 = qopt.linear %37, %38 {label = "model.layers.1.self_attn.o_proj", role = #qopt<role o_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %40 = qopt.add %26, %39 : tensor<?x384xf32>
    %41 = qopt.weight @ckpt["model.layers.1.post_attention_layernorm.weight"] : tensor<384xbf16>
    %42 = qopt.rms_norm %40, %41 {epsilon = 1.000000e-05 : f64} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %43 = qopt.weight @ckpt["model.layers.1.mlp.gate_proj.weight"] : tensor<1024x384xbf16>
    %44 = qopt.linear %42, %43 {label = "model.layers.1.mlp.gate_proj", role = #qopt<role gate_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %45 = qopt.weight @ckpt["model.layers.1.mlp.up_proj.weight"] : tensor<1024x384xbf16>
    %46 = qopt.linear %42, %45 {label = "model.layers.1.mlp.up_proj", role = #qopt<role up_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %47 = qopt.silu %44 : tensor<?x1024xf32>
    %48 = qopt.mul %47, %46 : tensor<?x1024xf32>
    %49 = qopt.weight @ckpt["model.layers.1.mlp.down_proj.weight"] : tensor<384x1024xbf16>
    %50 = qopt.linear %48, %49 {label = "model.layers.1.mlp.down_proj", role = #qopt<role down_proj>} : (tensor<?x1024xf32>, tensor<384x1024xbf16>) -> tensor<?x384xf32>
    %51 = qopt.add %40, %50 : tensor<?x384xf32>
    %52 = qopt.weight @ckpt["model.layers.2.input_layernorm.weight"] : tensor<384xbf16>
    %53 = qopt.rms_norm %51, %52 {epsilon = 1.000000e-05 : f64} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %54 = qopt.weight @ckpt["model.layers.2.self_attn.q_proj.weight"] : tensor<384x384xbf16>
    %55 = qopt.linear %53, %54 {label = "model.layers.2.self_attn.q_proj", role = #qopt<role q_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %56 = qopt.weight @ckpt["model.layers.2.self_attn.k_proj.weight"] : tensor<128x384xbf16>
    %57 = qopt.linear %53, %56 {label = "model.layers.2.self_attn.k_proj", role = #qopt<role k_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %58 = qopt.weight @ckpt["model.layers.2.self_attn.v_proj.weight"] : tensor<128x384xbf16>
    %59 = qopt.linear %53, %58 {label = "model.layers.2.self_attn.v_proj", role = #qopt<role v_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %60 = qopt.rope %55, %arg1 {head_dim = 64 : i64, num_heads = 6 : i64, theta = 1.000000e+04 : f64} : (tensor<?x384xf32>, tensor<?xi32>) -> tensor<?x384xf32>
    %61 = qopt.rope %57, %arg1 {head_dim = 64 : i64, num_heads = 2 : i64, theta = 1.000000e+04 : f64} : (tensor<?x128xf32>, tensor<?xi32>) -> tensor<?x128xf32>
    %62 = qopt.attention %60, %61, %59 {head_dim = 64 : i64, layer = 2 : i64, num_heads = 6 : i64, num_kv_heads = 2 : i64} : (tensor<?x384xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x384xf32>
    %63 = qopt.weight @ckpt["model.layers.2.self_attn.o_proj.weight"] : tensor<384x384xbf16>
    %64 = qopt.linear %62, %63 {label = "model.layers.2.self_attn.o_proj", role = #qopt<role o_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %65 = qopt.add %51, %64 : tensor<?x384xf32>
    %66 = qopt.weight @ckpt["model.layers.2.post_attention_layernorm.weight"] : tensor<384xbf16>
    %67 = qopt.rms_norm %65, %66 {epsilon = 1.000000e-05 : f64} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %68 = qopt.weight @ckpt["model.layers.2.mlp.gate_proj.weight"] : tensor<1024x384xbf16>
    %69 = qopt.linear %67, %68 {label = "model.layers.2.mlp.gate_proj", role = #qopt<role gate_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %70 = qopt.weight @ckpt["model.layers.2.mlp.up_proj.weight"] : tensor<1024x384xbf16>
    %71 = qopt.linear %67, %70 {label = "model.layers.2.mlp.up_proj", role = #qopt<role up_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %72 = qopt.silu %69 : tensor<?x1024xf32>
    %73 = qopt.mul %72, %71 : tensor<?x1024xf32>
    %74 = qopt.weight @ckpt["model.layers.2.mlp.down_proj.weight"] : tensor<384x1024xbf16>
    %75 = qopt.linear %73, %74 {label = "model.layers.2.mlp.down_proj", role = #qopt<role down_proj>} : (tensor<?x1024xf32>, tensor<384x1024xbf16>) -> tensor<?x384xf32>
    %76 = qopt.add %65, %75 : tensor<?x384xf32>
    %77 = qopt.weight @ckpt["model.layers.3.input_layernorm.weight"] : tensor<384xbf16>
    %78 = qopt.rms_norm %76, %77 {epsilon = 1.000000e-05 : f64} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %79 = qopt.weight @ckpt["model.layers.3.self_attn.q_proj.weight"] : tensor<384x384xbf16>
    %80 = qopt.linear %78, %79 {label = "model.layers.3.self_attn.q_proj", role = #qopt<role q_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %81 = qopt.weight @ckpt["model.layers.3.self_attn.k_proj.weight"] : tensor<128x384xbf16>
    %82 = qopt.linear %78, %81 {label = "model.layers.3.self_attn.k_proj", role = #qopt<role k_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %83 = qopt.weight @ckpt["model.layers.3.self_attn.v_proj.weight"] : tensor<128x384xbf16>
    %84 = qopt.linear %78, %83 {label = "model.layers.3.self_attn.v_proj", role = #qopt<role v_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %85 = qopt.rope %80, %arg1 {head_dim = 64 : i64, num_heads = 6 : i64, theta = 1.000000e+04 : f64} : (tensor<?x384xf32>, tensor<?xi32>) -> tensor<?x384xf32>
    %86 = qopt.rope %82, %arg1 {head_dim = 64 : i64, num_heads = 2 : i64, theta = 1.000000e+04 : f64} : (tensor<?x128xf32>, tensor<?xi32>) -> tensor<?x128xf32>
    %87 = qopt.attention %85, %86, %84 {head_dim = 64 : i64, layer = 3 : i64, num_heads = 6 : i64, num_kv_heads = 2 : i64} : (tensor<?x384xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x384xf32>
    %88 = qopt.weight @ckpt["model.layers.3.self_attn.o_proj.weight"] : tensor<384x384xbf16>
    %89 = qopt.linear %87, %88 {label = "model.layers.3.self_attn.o_proj", role = #qopt<role o_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %90 = qopt.add %76, %89 : tensor<?x384xf32>
    %91 = qopt.weight @ckpt["model.layers.3.post_attention_layernorm.weight"] : tensor<384xbf16>
    %92 = qopt.rms_norm %90, %91 {epsilon = 1.000000e-05 : f64} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %93 = qopt.weight @ckpt["model.layers.3.mlp.gate_proj.weight"] : tensor<1024x384xbf16>
    %94 = qopt.linear %92, %93 {label = "model.layers.3.mlp.gate_proj", role = #qopt<role gate_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %95 = qopt.weight @ckpt["model.layers.3.mlp.up_proj.weight"] : tensor<1024x384xbf16>
    %96 = qopt.linear %92, %95 {label = "model.layers.3.mlp.up_proj", role = #qopt<role up_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %97 = qopt.silu %94 : tensor<?x1024xf32>
    %98 = qopt.mul %97, %96 : tensor<?x1024xf32>
    %99 = qopt.weight @ckpt["model.layers.3.mlp.down_proj.weight"] : tensor<384x1024xbf16>
    %100 = qopt.linear %98, %99 {label = "model.layers.3.mlp.down_proj", role = #qopt<role down_proj>} : (tensor<?x1024xf32>, tensor<384x1024xbf16>) -> tensor<?x384xf32>
    %101 = qopt.add %90, %100 : tensor<?x384xf32>
    %102 = qopt.weight @ckpt["model.layers.4.input_layernorm.weight"] : tensor<384xbf16>
    %103 = qopt.rms_norm %101, %102 {epsilon = 1.000000e-05 : f64} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %104 = qopt.weight @ckpt["model.layers.4.self_attn.q_proj.weight"] : tensor<384x384xbf16>
    %105 = qopt.linear %103, %104 {label = "model.layers.4.self_attn.q_proj", role = #qopt<role q_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %106 = qopt.weight @ckpt["model.layers.4.self_attn.k_proj.weight"] : tensor<128x384xbf16>
    %107 = qopt.linear %103, %106 {label = "model.layers.4.self_attn.k_proj", role = #qopt<role k_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %108 = qopt.weight @ckpt["model.layers.4.self_attn.v_proj.weight"] : tensor<128x384xbf16>
    %109 = qopt.linear %103, %108 {label = "model.layers.4.self_attn.v_proj", role = #qopt<role v_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %110 = qopt.rope %105, %arg1 {head_dim = 64 : i64, num_heads = 6 : i64, theta = 1.000000e+04 : f64} : (tensor<?x384xf32>, tensor<?xi32>) -> tensor<?x384xf32>
    %111 = qopt.rope %107, %arg1 {head_dim = 64 : i64, num_heads = 2 : i64, theta = 1.000000e+04 : f64} : (tensor<?x128xf32>, tensor<?xi32>) -> tensor<?x128xf32>
    %112 = qopt.attention %110, %111, %109 {head_dim = 64 : i64, layer = 4 : i64, num_heads = 6 : i64, num_kv_heads = 2 : i64} : (tensor<?x384xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x384xf32>
    %113 = qopt.weight @ckpt["model.layers.4.self_attn.o_proj.weight"] : tensor<384x384xbf16>
    %114 = qopt.linear %112, %113 {label = "model.layers.4.self_attn.o_proj", role = #qopt<role o_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %115 = qopt.add %101, %114 : tensor<?x384xf32>
    %116 = qopt.weight @ckpt["model.layers.4.post_attention_layernorm.weight"] : tensor<384xbf16>
    %117 = qopt.rms_norm %115, %116 {epsilon = 1.000000e-05 : f64} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %118 = qopt.weight @ckpt["model.layers.4.mlp.gate_proj.weight"] : tensor<1024x384xbf16>
    %119 = qopt.linear %117, %118 {label = "model.layers.4.mlp.gate_proj", role = #qopt<role gate_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %120 = qopt.weight @ckpt["model.layers.4.mlp.up_proj.weight"] : tensor<1024x384xbf16>
    %121 = qopt.linear %117, %120 {label = "model.layers.4.mlp.up_proj", role = #qopt<role up_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %122 = qopt.silu %119 : tensor<?x1024xf32>
    %123 = qopt.mul %122, %121 : tensor<?x1024xf32>
    %124 = qopt.weight @ckpt["model.layers.4.mlp.down_proj.weight"] : tensor<384x1024xbf16>
    %125 = qopt.linear %123, %124 {label = "model.layers.4.mlp.down_proj", role = #qopt<role down_proj>} : (tensor<?x1024xf32>, tensor<384x1024xbf16>) -> tensor<?x384xf32>
    %126 = qopt.add %115, %125 : tensor<?x384xf32>
    %127 = qopt.weight @ckpt["model.layers.5.input_layernorm.weight"] : tensor<384xbf16>
    %128 = qopt.rms_norm %126, %127 {epsilon = 1.000000e-05 : f64} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %129 = qopt.weight @ckpt["model.layers.5.self_attn.q_proj.weight"] : tensor<384x384xbf16>
    %130 = qopt.linear %128, %129 {label = "model.layers.5.self_attn.q_proj", role = #qopt<role q_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %131 = qopt.weight @ckpt["model.layers.5.self_attn.k_proj.weight"] : tensor<128x384xbf16>
    %132 = qopt.linear %128, %131 {label = "model.layers.5.self_attn.k_proj", role = #qopt<role k_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %133 = qopt.weight @ckpt["model.layers.5.self_attn.v_proj.weight"] : tensor<128x384xbf16>
    %134 = qopt.linear %128, %133 {label = "model.layers.5.self_attn.v_proj", role = #qopt<role v_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %135 = qopt.rope %130, %arg1 {head_dim = 64 : i64, num_heads = 6 : i64, theta = 1.000000e+04 : f64} : (tensor<?x384xf32>, tensor<?xi32>) -> tensor<?x384xf32>
    %136 = qopt.rope %132, %arg1 {head_dim = 64 : i64, num_heads = 2 : i64, theta = 1.000000e+04 : f64} : (tensor<?x128xf32>, tensor<?xi32>) -> tensor<?x128xf32>
    %137 = qopt.attention %135, %136, %134 {head_dim = 64 : i64, layer = 5 : i64, num_heads = 6 : i64, num_kv_heads = 2 : i64} : (tensor<?x384xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x384xf32>
    %138 = qopt.weight @ckpt["model.layers.5.self_attn.o_proj.weight"] : tensor<384x384xbf16>
    %139 = qopt.linear %137, %138 {label = "model.layers.5.self_attn.o_proj", role = #qopt<role o_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %140 = qopt.add %126, %139 : tensor<?x384xf32>
    %141 = qopt.weight @ckpt["model.layers.5.post_attention_layernorm.weight"] : tensor<384xbf16>
    %142 = qopt.rms_norm %140, %141 {epsilon = 1.000000e-05 : f64} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %143 = qopt.weight @ckpt["model.layers.5.mlp.gate_proj.weight"] : tensor<1024x384xbf16>
    %144 = qopt.linear %142, %143 {label = "model.layers.5.mlp.gate_proj", role = #qopt<role gate_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %145 = qopt.weight @ckpt["model.layers.5.mlp.up_proj.weight"] : tensor<1024x384xbf16>
    %146 = qopt.linear %142, %145 {label = "model.layers.5.mlp.up_proj", role = #qopt<role up_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %147 = qopt.silu %144 : tensor<?x1024xf32>
    %148 = qopt.mul %147, %146 : tensor<?x1024xf32>
    %149 = qopt.weight @ckpt["model.layers.5.mlp.down_proj.weight"] : tensor<384x1024xbf16>
    %150 = qopt.linear %148, %149 {label = "model.layers.5.mlp.down_proj", role = #qopt<role down_proj>} : (tensor<?x1024xf32>, tensor<384x1024xbf16>) -> tensor<?x384xf32>
    %151 = qopt.add %140, %150 : tensor<?x384xf32>
    %152 = qopt.weight @ckpt["model.norm.weight"] : tensor<384xbf16>
    %153 = qopt.rms_norm %151, %152 {epsilon = 1.000000e-05 : f64} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %154 = qopt.linear %153, %0 {label = "lm_head", role = #qopt<role lm_head>} : (tensor<?x384xf32>, tensor<32000x384xbf16>) -> tensor<?x32000xf32>
    return %154 : tensor<?x32000xf32>
  }
}

