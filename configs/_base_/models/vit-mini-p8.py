# The "mini" ViT of every demo config: 96-d, 4 layers, 3 heads, MLP 384 (on
# 64 px images with patch 8: 8 x 8 = 64 tokens). Configs that list this file
# in their _base_ read it as `arch=_base_.mini_arch`, or, where the base
# backbone has a named arch such as 'b', `arch=dict(_base_.mini_arch,
# _delete_=True)`; MMEngine keeps `mini_arch` as a top-level key.
mini_arch = dict(
    embed_dims=96, num_layers=4, num_heads=3, feedforward_channels=384)
