"""Optimizers, clipping, learning-rate schedules and Newton's method (Chapter 4): torch.optim's, written out.

Each optimizer is a ``torch.optim.Optimizer`` with torch's name, arguments, defaults, ``param_groups`` and
``state``, and follows the same trajectory; its ``step()`` is a plain loop over the parameters. With the
gradient g = dL/dw, learning rate eta and weight decay lambda (``weight_decay = lambda`` adds lambda w to g,
the gradient of (lambda/2)||w||^2, except in AdamW):

    SGD       b = mu b + (1 - tau) g  (b_1 = g);   w -= eta (g + mu b  if nesterov  else b)        sgd.py
    Adagrad   s += g^2;                            w -= eta g / (sqrt(s) + eps)                    adaptive.py
    RMSprop   v = alpha v + (1 - alpha) g^2;       w -= eta g / (sqrt(v) + eps)                    adaptive.py
    Adam      m = beta1 m + (1 - beta1) g,  v = beta2 v + (1 - beta2) g^2;
              w -= eta m_hat / (sqrt(v_hat) + eps),  m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)
                                                                                               adam.py
    AdamW     Adam with w *= (1 - eta lambda) instead of adding lambda w to g                  adam.py

    clip_grad_norm_, clip_grad_value_                                                          clip.py
    LinearLR, StepLR, CosineAnnealingLR, LambdaLR                                              schedules.py
    hessian, newton_step: x_new = x - H^-1 g                                                   newton.py

Where torch's convention surprises (the buffer b = mu b + g starting at g; eps outside the square root;
Adam's eps added after the bias correction; Adam's coupled against AdamW's decoupled weight decay), the
code follows torch and the module says so.
"""

from helpers.optim.adam import Adam, AdamW
from helpers.optim.adaptive import Adagrad, RMSprop
from helpers.optim.clip import clip_grad_norm_, clip_grad_value_
from helpers.optim.newton import gradient, hessian, newton, newton_step
from helpers.optim.schedules import CosineAnnealingLR, LambdaLR, LinearLR, LRScheduler, StepLR
from helpers.optim.sgd import SGD

__all__ = [
    "SGD", "Adagrad", "RMSprop", "Adam", "AdamW",
    "clip_grad_norm_", "clip_grad_value_",
    "LRScheduler", "LinearLR", "StepLR", "CosineAnnealingLR", "LambdaLR",
    "gradient", "hessian", "newton", "newton_step",
]
