import numbers
from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.models.backbones.vision_transformer import \
    TransformerEncoderLayer
from mmpretrain.models.utils import build_2d_sincos_position_embedding
from mmpretrain.registry import MODELS

from ...utils import check_positive_int
from ..utils import gather_tokens


@MODELS.register_module()
class PRMIMDecoder(BaseModule):
    """MAE's decoder for partial reconstruction.

    The decoder sequence holds the class token, the visible tokens and mask
    tokens at the *retained* masked positions only; position embeddings are
    gathered for exactly those positions. Thrown tokens never enter it, which
    is where PR-MIM saves compute: N * (1 - throw_ratio) + 1 tokens instead
    of N + 1. The final norm and pixel prediction live in ``PRMIMHead``, after
    the spatial aggregator.

    Args:
        num_patches (int): Tokens N of the full (square) grid, that of the
            training inputs. Defaults to 196.
        embed_dim (int): Encoder width. Defaults to 1024.
        decoder_embed_dim (int): Decoder width, a multiple of 4 and of
            ``decoder_num_heads``. Defaults to 512.
        decoder_depth (int): Decoder blocks. Defaults to 8.
        decoder_num_heads (int): Attention heads. Defaults to 16.
        mlp_ratio (float): FFN width ratio. Defaults to 4.
        norm_cfg (dict): Norm of the blocks. Defaults to LN, eps 1e-6.
        patch_size (int, optional): ``MAEPretrainDecoder``'s patch size,
            accepted so that configs inheriting MMPretrain's MAE neck build:
            PR-MIM predicts pixels in ``PRMIMHead``, and ``PRMIM`` checks
            that the head has the same. Defaults to None.
        in_chans (int, optional): ``MAEPretrainDecoder``'s image channels,
            checked against the head's likewise. Defaults to None.
        init_cfg (dict | list, optional): Initialization config.
    """

    def __init__(self,
                 num_patches: int = 196,
                 embed_dim: int = 1024,
                 decoder_embed_dim: int = 512,
                 decoder_depth: int = 8,
                 decoder_num_heads: int = 16,
                 mlp_ratio: float = 4.,
                 norm_cfg: dict = dict(type='LN', eps=1e-6),
                 patch_size: Optional[int] = None,
                 in_chans: Optional[int] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        for name, value in (('patch_size', patch_size),
                            ('in_chans', in_chans)):
            if value is not None:
                check_positive_int(value, name)
        self.patch_size = patch_size
        self.in_chans = in_chans
        check_positive_int(num_patches, 'num_patches')
        if round(num_patches**.5)**2 != num_patches:
            raise ValueError(
                'num_patches must be the token count h * h of a square grid '
                f'(e.g. 196 for 224 px inputs and 16 px patches), got '
                f'{num_patches}')
        check_positive_int(embed_dim, 'embed_dim')
        check_positive_int(decoder_num_heads, 'decoder_num_heads')
        check_positive_int(decoder_embed_dim, 'decoder_embed_dim')
        if isinstance(decoder_depth, bool) \
                or not isinstance(decoder_depth, int) or decoder_depth < 0:
            raise ValueError('decoder_depth must be a non-negative integer, '
                             f'got {decoder_depth!r}')
        if isinstance(mlp_ratio, bool) \
                or not isinstance(mlp_ratio, numbers.Real) \
                or not int(mlp_ratio * decoder_embed_dim) >= 1:
            raise ValueError(
                'mlp_ratio must be a number that gives an FFN of at least '
                f'one channel (int(mlp_ratio * decoder_embed_dim) >= 1), got '
                f'{mlp_ratio!r}')
        if decoder_embed_dim % 4 or decoder_embed_dim % decoder_num_heads:
            raise ValueError(
                f'decoder_embed_dim must be a multiple of 4 (2-D sin-cos '
                f'position embedding) and of decoder_num_heads='
                f'{decoder_num_heads}, got {decoder_embed_dim}')
        self.num_patches = num_patches
        self.decoder_embed = nn.Linear(embed_dim, decoder_embed_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_embed_dim))
        self.decoder_pos_embed = nn.Parameter(
            torch.zeros(1, num_patches + 1, decoder_embed_dim),
            requires_grad=False)
        self.decoder_blocks = nn.ModuleList([
            TransformerEncoderLayer(
                decoder_embed_dim,
                decoder_num_heads,
                int(mlp_ratio * decoder_embed_dim),
                qkv_bias=True,
                norm_cfg=norm_cfg) for _ in range(decoder_depth)
        ])

    def init_weights(self) -> None:
        """Sin-cos position embedding and a small random mask token."""
        super().init_weights()
        pos_embed = build_2d_sincos_position_embedding(
            int(self.num_patches**.5),
            self.decoder_pos_embed.shape[-1],
            cls_token=True)
        self.decoder_pos_embed.data.copy_(pos_embed.float())
        nn.init.normal_(self.mask_token, std=.02)

    def forward(self, latent: torch.Tensor,
                ids_decoded: torch.Tensor) -> torch.Tensor:
        """Decode the visible tokens plus mask tokens at retained positions.

        Args:
            latent (torch.Tensor): (B, 1 + Nv, C_enc) encoder output.
            ids_decoded (torch.Tensor): (B, Nv + Nr) raster positions of the
                visible tokens (in the encoder's order) then the retained
                masked tokens.

        Returns:
            torch.Tensor: (B, 1 + Nv + Nr, C_dec) decoded tokens, before the
            final norm.
        """
        if latent.shape[-1] != self.decoder_embed.in_features:
            raise ValueError(
                f'embed_dim={self.decoder_embed.in_features} but the encoder '
                f'gives {latent.shape[-1]}-channel tokens: set the neck\'s '
                'embed_dim to the backbone\'s width')
        x = self.decoder_embed(latent)
        num_retained = ids_decoded.shape[1] - (x.shape[1] - 1)
        mask_tokens = self.mask_token.expand(x.shape[0], num_retained, -1)
        x = torch.cat([x, mask_tokens], dim=1)
        pos_embed = self.decoder_pos_embed.expand(x.shape[0], -1, -1)
        x = x + torch.cat(
            [pos_embed[:, :1],
             gather_tokens(pos_embed[:, 1:], ids_decoded)], dim=1)
        for block in self.decoder_blocks:
            x = block(x)
        return x
