// qopt-tiny-llama (Llama architecture, 6 layers, hidden 384, 6 heads of 64,
// 2 KV heads, SwiGLU 1024, tied embeddings) as qopt graph IR: one function,
// layers unrolled, weights referenced by name in the sharded checkpoint.
// Relative store paths resolve against this file's directory.
module attributes {qopt.model = {architecture = "llama", bos_token_id = 1 : i64, eos_token_id = 2 : i64, tokenizer = "../../shared/models/qopt-tiny-llama/tokenizer.json"}} {
  qopt.weight_store @ckpt "../../shared/models/qopt-tiny-llama/model.safetensors.index.json"
  func.func @forward(%ids: tensor<?xi32>, %positions: tensor<?xi32>) -> tensor<?x32000xf32> {
    %embed = qopt.weight @ckpt["model.embed_tokens.weight"] : tensor<32000x384xbf16>
    %h0 = qopt.embedding %embed[%ids] : (tensor<32000x384xbf16>, tensor<?xi32>) -> tensor<?x384xf32>
    // Layer 0
    %l0_ln1_w = qopt.weight @ckpt["model.layers.0.input_layernorm.weight"] : tensor<384xbf16>
    %l0_ln1 = qopt.rms_norm %h0, %l0_ln1_w {epsilon = 1.0e-05} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %l0_q_w = qopt.weight @ckpt["model.layers.0.self_attn.q_proj.weight"] : tensor<384x384xbf16>
    %l0_q = qopt.linear %l0_ln1, %l0_q_w {label = "model.layers.0.self_attn.q_proj", role = #qopt<role q_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %l0_k_w = qopt.weight @ckpt["model.layers.0.self_attn.k_proj.weight"] : tensor<128x384xbf16>
    %l0_k = qopt.linear %l0_ln1, %l0_k_w {label = "model.layers.0.self_attn.k_proj", role = #qopt<role k_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %l0_v_w = qopt.weight @ckpt["model.layers.0.self_attn.v_proj.weight"] : tensor<128x384xbf16>
    %l0_v = qopt.linear %l0_ln1, %l0_v_w {label = "model.layers.0.self_attn.v_proj", role = #qopt<role v_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %l0_q_rot = qopt.rope %l0_q, %positions {head_dim = 64 : i64, num_heads = 6 : i64, theta = 1.0e+04} : (tensor<?x384xf32>, tensor<?xi32>) -> tensor<?x384xf32>
    %l0_k_rot = qopt.rope %l0_k, %positions {head_dim = 64 : i64, num_heads = 2 : i64, theta = 1.0e+04} : (tensor<?x128xf32>, tensor<?xi32>) -> tensor<?x128xf32>
    %l0_attn = qopt.attention %l0_q_rot, %l0_k_rot, %l0_v {head_dim = 64 : i64, layer = 0 : i64, num_heads = 6 : i64, num_kv_heads = 2 : i64} : (tensor<?x384xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x384xf32>
    %l0_o_w = qopt.weight @ckpt["model.layers.0.self_attn.o_proj.weight"] : tensor<384x384xbf16>
    %l0_o = qopt.linear %l0_attn, %l0_o_w {label = "model.layers.0.self_attn.o_proj", role = #qopt<role o_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %l0_res1 = qopt.add %h0, %l0_o : tensor<?x384xf32>
    %l0_ln2_w = qopt.weight @ckpt["model.layers.0.post_attention_layernorm.weight"] : tensor<384xbf16>
    %l0_ln2 = qopt.rms_norm %l0_res1, %l0_ln2_w {epsilon = 1.0e-05} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %l0_gate_w = qopt.weight @ckpt["model.layers.0.mlp.gate_proj.weight"] : tensor<1024x384xbf16>
    %l0_gate = qopt.linear %l0_ln2, %l0_gate_w {label = "model.layers.0.mlp.gate_proj", role = #qopt<role gate_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %l0_up_w = qopt.weight @ckpt["model.layers.0.mlp.up_proj.weight"] : tensor<1024x384xbf16>
    %l0_up = qopt.linear %l0_ln2, %l0_up_w {label = "model.layers.0.mlp.up_proj", role = #qopt<role up_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %l0_act = qopt.silu %l0_gate : tensor<?x1024xf32>
    %l0_mlp = qopt.mul %l0_act, %l0_up : tensor<?x1024xf32>
    %l0_down_w = qopt.weight @ckpt["model.layers.0.mlp.down_proj.weight"] : tensor<384x1024xbf16>
    %l0_down = qopt.linear %l0_mlp, %l0_down_w {label = "model.layers.0.mlp.down_proj", role = #qopt<role down_proj>} : (tensor<?x1024xf32>, tensor<384x1024xbf16>) -> tensor<?x384xf32>
    %l0_out = qopt.add %l0_res1, %l0_down : tensor<?x384xf32>
    // Layer 1
    %l1_ln1_w = qopt.weight @ckpt["model.layers.1.input_layernorm.weight"] : tensor<384xbf16>
    %l1_ln1 = qopt.rms_norm %l0_out, %l1_ln1_w {epsilon = 1.0e-05} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %l1_q_w = qopt.weight @ckpt["model.layers.1.self_attn.q_proj.weight"] : tensor<384x384xbf16>
    %l1_q = qopt.linear %l1_ln1, %l1_q_w {label = "model.layers.1.self_attn.q_proj", role = #qopt<role q_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %l1_k_w = qopt.weight @ckpt["model.layers.1.self_attn.k_proj.weight"] : tensor<128x384xbf16>
    %l1_k = qopt.linear %l1_ln1, %l1_k_w {label = "model.layers.1.self_attn.k_proj", role = #qopt<role k_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %l1_v_w = qopt.weight @ckpt["model.layers.1.self_attn.v_proj.weight"] : tensor<128x384xbf16>
    %l1_v = qopt.linear %l1_ln1, %l1_v_w {label = "model.layers.1.self_attn.v_proj", role = #qopt<role v_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %l1_q_rot = qopt.rope %l1_q, %positions {head_dim = 64 : i64, num_heads = 6 : i64, theta = 1.0e+04} : (tensor<?x384xf32>, tensor<?xi32>) -> tensor<?x384xf32>
    %l1_k_rot = qopt.rope %l1_k, %positions {head_dim = 64 : i64, num_heads = 2 : i64, theta = 1.0e+04} : (tensor<?x128xf32>, tensor<?xi32>) -> tensor<?x128xf32>
    %l1_attn = qopt.attention %l1_q_rot, %l1_k_rot, %l1_v {head_dim = 64 : i64, layer = 1 : i64, num_heads = 6 : i64, num_kv_heads = 2 : i64} : (tensor<?x384xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x384xf32>
    %l1_o_w = qopt.weight @ckpt["model.layers.1.self_attn.o_proj.weight"] : tensor<384x384xbf16>
    %l1_o = qopt.linear %l1_attn, %l1_o_w {label = "model.layers.1.self_attn.o_proj", role = #qopt<role o_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %l1_res1 = qopt.add %l0_out, %l1_o : tensor<?x384xf32>
    %l1_ln2_w = qopt.weight @ckpt["model.layers.1.post_attention_layernorm.weight"] : tensor<384xbf16>
    %l1_ln2 = qopt.rms_norm %l1_res1, %l1_ln2_w {epsilon = 1.0e-05} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %l1_gate_w = qopt.weight @ckpt["model.layers.1.mlp.gate_proj.weight"] : tensor<1024x384xbf16>
    %l1_gate = qopt.linear %l1_ln2, %l1_gate_w {label = "model.layers.1.mlp.gate_proj", role = #qopt<role gate_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %l1_up_w = qopt.weight @ckpt["model.layers.1.mlp.up_proj.weight"] : tensor<1024x384xbf16>
    %l1_up = qopt.linear %l1_ln2, %l1_up_w {label = "model.layers.1.mlp.up_proj", role = #qopt<role up_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %l1_act = qopt.silu %l1_gate : tensor<?x1024xf32>
    %l1_mlp = qopt.mul %l1_act, %l1_up : tensor<?x1024xf32>
    %l1_down_w = qopt.weight @ckpt["model.layers.1.mlp.down_proj.weight"] : tensor<384x1024xbf16>
    %l1_down = qopt.linear %l1_mlp, %l1_down_w {label = "model.layers.1.mlp.down_proj", role = #qopt<role down_proj>} : (tensor<?x1024xf32>, tensor<384x1024xbf16>) -> tensor<?x384xf32>
    %l1_out = qopt.add %l1_res1, %l1_down : tensor<?x384xf32>
    // Layer 2
    %l2_ln1_w = qopt.weight @ckpt["model.layers.2.input_layernorm.weight"] : tensor<384xbf16>
    %l2_ln1 = qopt.rms_norm %l1_out, %l2_ln1_w {epsilon = 1.0e-05} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %l2_q_w = qopt.weight @ckpt["model.layers.2.self_attn.q_proj.weight"] : tensor<384x384xbf16>
    %l2_q = qopt.linear %l2_ln1, %l2_q_w {label = "model.layers.2.self_attn.q_proj", role = #qopt<role q_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %l2_k_w = qopt.weight @ckpt["model.layers.2.self_attn.k_proj.weight"] : tensor<128x384xbf16>
    %l2_k = qopt.linear %l2_ln1, %l2_k_w {label = "model.layers.2.self_attn.k_proj", role = #qopt<role k_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %l2_v_w = qopt.weight @ckpt["model.layers.2.self_attn.v_proj.weight"] : tensor<128x384xbf16>
    %l2_v = qopt.linear %l2_ln1, %l2_v_w {label = "model.layers.2.self_attn.v_proj", role = #qopt<role v_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %l2_q_rot = qopt.rope %l2_q, %positions {head_dim = 64 : i64, num_heads = 6 : i64, theta = 1.0e+04} : (tensor<?x384xf32>, tensor<?xi32>) -> tensor<?x384xf32>
    %l2_k_rot = qopt.rope %l2_k, %positions {head_dim = 64 : i64, num_heads = 2 : i64, theta = 1.0e+04} : (tensor<?x128xf32>, tensor<?xi32>) -> tensor<?x128xf32>
    %l2_attn = qopt.attention %l2_q_rot, %l2_k_rot, %l2_v {head_dim = 64 : i64, layer = 2 : i64, num_heads = 6 : i64, num_kv_heads = 2 : i64} : (tensor<?x384xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x384xf32>
    %l2_o_w = qopt.weight @ckpt["model.layers.2.self_attn.o_proj.weight"] : tensor<384x384xbf16>
    %l2_o = qopt.linear %l2_attn, %l2_o_w {label = "model.layers.2.self_attn.o_proj", role = #qopt<role o_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %l2_res1 = qopt.add %l1_out, %l2_o : tensor<?x384xf32>
    %l2_ln2_w = qopt.weight @ckpt["model.layers.2.post_attention_layernorm.weight"] : tensor<384xbf16>
    %l2_ln2 = qopt.rms_norm %l2_res1, %l2_ln2_w {epsilon = 1.0e-05} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %l2_gate_w = qopt.weight @ckpt["model.layers.2.mlp.gate_proj.weight"] : tensor<1024x384xbf16>
    %l2_gate = qopt.linear %l2_ln2, %l2_gate_w {label = "model.layers.2.mlp.gate_proj", role = #qopt<role gate_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %l2_up_w = qopt.weight @ckpt["model.layers.2.mlp.up_proj.weight"] : tensor<1024x384xbf16>
    %l2_up = qopt.linear %l2_ln2, %l2_up_w {label = "model.layers.2.mlp.up_proj", role = #qopt<role up_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %l2_act = qopt.silu %l2_gate : tensor<?x1024xf32>
    %l2_mlp = qopt.mul %l2_act, %l2_up : tensor<?x1024xf32>
    %l2_down_w = qopt.weight @ckpt["model.layers.2.mlp.down_proj.weight"] : tensor<384x1024xbf16>
    %l2_down = qopt.linear %l2_mlp, %l2_down_w {label = "model.layers.2.mlp.down_proj", role = #qopt<role down_proj>} : (tensor<?x1024xf32>, tensor<384x1024xbf16>) -> tensor<?x384xf32>
    %l2_out = qopt.add %l2_res1, %l2_down : tensor<?x384xf32>
    // Layer 3
    %l3_ln1_w = qopt.weight @ckpt["model.layers.3.input_layernorm.weight"] : tensor<384xbf16>
    %l3_ln1 = qopt.rms_norm %l2_out, %l3_ln1_w {epsilon = 1.0e-05} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %l3_q_w = qopt.weight @ckpt["model.layers.3.self_attn.q_proj.weight"] : tensor<384x384xbf16>
    %l3_q = qopt.linear %l3_ln1, %l3_q_w {label = "model.layers.3.self_attn.q_proj", role = #qopt<role q_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %l3_k_w = qopt.weight @ckpt["model.layers.3.self_attn.k_proj.weight"] : tensor<128x384xbf16>
    %l3_k = qopt.linear %l3_ln1, %l3_k_w {label = "model.layers.3.self_attn.k_proj", role = #qopt<role k_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %l3_v_w = qopt.weight @ckpt["model.layers.3.self_attn.v_proj.weight"] : tensor<128x384xbf16>
    %l3_v = qopt.linear %l3_ln1, %l3_v_w {label = "model.layers.3.self_attn.v_proj", role = #qopt<role v_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %l3_q_rot = qopt.rope %l3_q, %positions {head_dim = 64 : i64, num_heads = 6 : i64, theta = 1.0e+04} : (tensor<?x384xf32>, tensor<?xi32>) -> tensor<?x384xf32>
    %l3_k_rot = qopt.rope %l3_k, %positions {head_dim = 64 : i64, num_heads = 2 : i64, theta = 1.0e+04} : (tensor<?x128xf32>, tensor<?xi32>) -> tensor<?x128xf32>
    %l3_attn = qopt.attention %l3_q_rot, %l3_k_rot, %l3_v {head_dim = 64 : i64, layer = 3 : i64, num_heads = 6 : i64, num_kv_heads = 2 : i64} : (tensor<?x384xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x384xf32>
    %l3_o_w = qopt.weight @ckpt["model.layers.3.self_attn.o_proj.weight"] : tensor<384x384xbf16>
    %l3_o = qopt.linear %l3_attn, %l3_o_w {label = "model.layers.3.self_attn.o_proj", role = #qopt<role o_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %l3_res1 = qopt.add %l2_out, %l3_o : tensor<?x384xf32>
    %l3_ln2_w = qopt.weight @ckpt["model.layers.3.post_attention_layernorm.weight"] : tensor<384xbf16>
    %l3_ln2 = qopt.rms_norm %l3_res1, %l3_ln2_w {epsilon = 1.0e-05} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %l3_gate_w = qopt.weight @ckpt["model.layers.3.mlp.gate_proj.weight"] : tensor<1024x384xbf16>
    %l3_gate = qopt.linear %l3_ln2, %l3_gate_w {label = "model.layers.3.mlp.gate_proj", role = #qopt<role gate_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %l3_up_w = qopt.weight @ckpt["model.layers.3.mlp.up_proj.weight"] : tensor<1024x384xbf16>
    %l3_up = qopt.linear %l3_ln2, %l3_up_w {label = "model.layers.3.mlp.up_proj", role = #qopt<role up_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %l3_act = qopt.silu %l3_gate : tensor<?x1024xf32>
    %l3_mlp = qopt.mul %l3_act, %l3_up : tensor<?x1024xf32>
    %l3_down_w = qopt.weight @ckpt["model.layers.3.mlp.down_proj.weight"] : tensor<384x1024xbf16>
    %l3_down = qopt.linear %l3_mlp, %l3_down_w {label = "model.layers.3.mlp.down_proj", role = #qopt<role down_proj>} : (tensor<?x1024xf32>, tensor<384x1024xbf16>) -> tensor<?x384xf32>
    %l3_out = qopt.add %l3_res1, %l3_down : tensor<?x384xf32>
    // Layer 4
    %l4_ln1_w = qopt.weight @ckpt["model.layers.4.input_layernorm.weight"] : tensor<384xbf16>
    %l4_ln1 = qopt.rms_norm %l3_out, %l4_ln1_w {epsilon = 1.0e-05} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %l4_q_w = qopt.weight @ckpt["model.layers.4.self_attn.q_proj.weight"] : tensor<384x384xbf16>
    %l4_q = qopt.linear %l4_ln1, %l4_q_w {label = "model.layers.4.self_attn.q_proj", role = #qopt<role q_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %l4_k_w = qopt.weight @ckpt["model.layers.4.self_attn.k_proj.weight"] : tensor<128x384xbf16>
    %l4_k = qopt.linear %l4_ln1, %l4_k_w {label = "model.layers.4.self_attn.k_proj", role = #qopt<role k_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %l4_v_w = qopt.weight @ckpt["model.layers.4.self_attn.v_proj.weight"] : tensor<128x384xbf16>
    %l4_v = qopt.linear %l4_ln1, %l4_v_w {label = "model.layers.4.self_attn.v_proj", role = #qopt<role v_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %l4_q_rot = qopt.rope %l4_q, %positions {head_dim = 64 : i64, num_heads = 6 : i64, theta = 1.0e+04} : (tensor<?x384xf32>, tensor<?xi32>) -> tensor<?x384xf32>
    %l4_k_rot = qopt.rope %l4_k, %positions {head_dim = 64 : i64, num_heads = 2 : i64, theta = 1.0e+04} : (tensor<?x128xf32>, tensor<?xi32>) -> tensor<?x128xf32>
    %l4_attn = qopt.attention %l4_q_rot, %l4_k_rot, %l4_v {head_dim = 64 : i64, layer = 4 : i64, num_heads = 6 : i64, num_kv_heads = 2 : i64} : (tensor<?x384xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x384xf32>
    %l4_o_w = qopt.weight @ckpt["model.layers.4.self_attn.o_proj.weight"] : tensor<384x384xbf16>
    %l4_o = qopt.linear %l4_attn, %l4_o_w {label = "model.layers.4.self_attn.o_proj", role = #qopt<role o_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %l4_res1 = qopt.add %l3_out, %l4_o : tensor<?x384xf32>
    %l4_ln2_w = qopt.weight @ckpt["model.layers.4.post_attention_layernorm.weight"] : tensor<384xbf16>
    %l4_ln2 = qopt.rms_norm %l4_res1, %l4_ln2_w {epsilon = 1.0e-05} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %l4_gate_w = qopt.weight @ckpt["model.layers.4.mlp.gate_proj.weight"] : tensor<1024x384xbf16>
    %l4_gate = qopt.linear %l4_ln2, %l4_gate_w {label = "model.layers.4.mlp.gate_proj", role = #qopt<role gate_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %l4_up_w = qopt.weight @ckpt["model.layers.4.mlp.up_proj.weight"] : tensor<1024x384xbf16>
    %l4_up = qopt.linear %l4_ln2, %l4_up_w {label = "model.layers.4.mlp.up_proj", role = #qopt<role up_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %l4_act = qopt.silu %l4_gate : tensor<?x1024xf32>
    %l4_mlp = qopt.mul %l4_act, %l4_up : tensor<?x1024xf32>
    %l4_down_w = qopt.weight @ckpt["model.layers.4.mlp.down_proj.weight"] : tensor<384x1024xbf16>
    %l4_down = qopt.linear %l4_mlp, %l4_down_w {label = "model.layers.4.mlp.down_proj", role = #qopt<role down_proj>} : (tensor<?x1024xf32>, tensor<384x1024xbf16>) -> tensor<?x384xf32>
    %l4_out = qopt.add %l4_res1, %l4_down : tensor<?x384xf32>
    // Layer 5
    %l5_ln1_w = qopt.weight @ckpt["model.layers.5.input_layernorm.weight"] : tensor<384xbf16>
    %l5_ln1 = qopt.rms_norm %l4_out, %l5_ln1_w {epsilon = 1.0e-05} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %l5_q_w = qopt.weight @ckpt["model.layers.5.self_attn.q_proj.weight"] : tensor<384x384xbf16>
    %l5_q = qopt.linear %l5_ln1, %l5_q_w {label = "model.layers.5.self_attn.q_proj", role = #qopt<role q_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %l5_k_w = qopt.weight @ckpt["model.layers.5.self_attn.k_proj.weight"] : tensor<128x384xbf16>
    %l5_k = qopt.linear %l5_ln1, %l5_k_w {label = "model.layers.5.self_attn.k_proj", role = #qopt<role k_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %l5_v_w = qopt.weight @ckpt["model.layers.5.self_attn.v_proj.weight"] : tensor<128x384xbf16>
    %l5_v = qopt.linear %l5_ln1, %l5_v_w {label = "model.layers.5.self_attn.v_proj", role = #qopt<role v_proj>} : (tensor<?x384xf32>, tensor<128x384xbf16>) -> tensor<?x128xf32>
    %l5_q_rot = qopt.rope %l5_q, %positions {head_dim = 64 : i64, num_heads = 6 : i64, theta = 1.0e+04} : (tensor<?x384xf32>, tensor<?xi32>) -> tensor<?x384xf32>
    %l5_k_rot = qopt.rope %l5_k, %positions {head_dim = 64 : i64, num_heads = 2 : i64, theta = 1.0e+04} : (tensor<?x128xf32>, tensor<?xi32>) -> tensor<?x128xf32>
    %l5_attn = qopt.attention %l5_q_rot, %l5_k_rot, %l5_v {head_dim = 64 : i64, layer = 5 : i64, num_heads = 6 : i64, num_kv_heads = 2 : i64} : (tensor<?x384xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x384xf32>
    %l5_o_w = qopt.weight @ckpt["model.layers.5.self_attn.o_proj.weight"] : tensor<384x384xbf16>
    %l5_o = qopt.linear %l5_attn, %l5_o_w {label = "model.layers.5.self_attn.o_proj", role = #qopt<role o_proj>} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    %l5_res1 = qopt.add %l4_out, %l5_o : tensor<?x384xf32>
    %l5_ln2_w = qopt.weight @ckpt["model.layers.5.post_attention_layernorm.weight"] : tensor<384xbf16>
    %l5_ln2 = qopt.rms_norm %l5_res1, %l5_ln2_w {epsilon = 1.0e-05} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %l5_gate_w = qopt.weight @ckpt["model.layers.5.mlp.gate_proj.weight"] : tensor<1024x384xbf16>
    %l5_gate = qopt.linear %l5_ln2, %l5_gate_w {label = "model.layers.5.mlp.gate_proj", role = #qopt<role gate_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %l5_up_w = qopt.weight @ckpt["model.layers.5.mlp.up_proj.weight"] : tensor<1024x384xbf16>
    %l5_up = qopt.linear %l5_ln2, %l5_up_w {label = "model.layers.5.mlp.up_proj", role = #qopt<role up_proj>} : (tensor<?x384xf32>, tensor<1024x384xbf16>) -> tensor<?x1024xf32>
    %l5_act = qopt.silu %l5_gate : tensor<?x1024xf32>
    %l5_mlp = qopt.mul %l5_act, %l5_up : tensor<?x1024xf32>
    %l5_down_w = qopt.weight @ckpt["model.layers.5.mlp.down_proj.weight"] : tensor<384x1024xbf16>
    %l5_down = qopt.linear %l5_mlp, %l5_down_w {label = "model.layers.5.mlp.down_proj", role = #qopt<role down_proj>} : (tensor<?x1024xf32>, tensor<384x1024xbf16>) -> tensor<?x384xf32>
    %l5_out = qopt.add %l5_res1, %l5_down : tensor<?x384xf32>
    %norm_w = qopt.weight @ckpt["model.norm.weight"] : tensor<384xbf16>
    %final = qopt.rms_norm %l5_out, %norm_w {epsilon = 1.0e-05} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    %logits = qopt.linear %final, %embed {label = "lm_head", role = #qopt<role lm_head>} : (tensor<?x384xf32>, tensor<32000x384xbf16>) -> tensor<?x32000xf32>
    return %logits : tensor<?x32000xf32>
  }
}
