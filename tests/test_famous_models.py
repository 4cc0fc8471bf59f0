"""AlexNet, VGG11/16 and ResNet-18/34: torchvision's structure, counts, init and outputs.

torchvision is not a dependency (and is not installed next to torch here), so the PyTorch
twins are written out below from torch.nn, line for line as torchvision defines them. Each
big model is built once per module (VGG16 has 138M parameters: building it takes seconds).
"""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import models, nn
from minigrad.nn import functional as F

# name -> (minigrad class, torchvision's parameter count at 1000 classes, small input side,
#          output shape of the last feature map on that input)
SPECS = {
    "alexnet": (models.AlexNet, 61_100_840, 63, (2, 256, 1, 1)),
    "vgg11": (models.VGG11, 132_863_336, 32, (2, 512, 1, 1)),
    "vgg16": (models.VGG16, 138_357_544, 32, (2, 512, 1, 1)),
    "resnet18": (models.ResNet18, 11_689_512, 64, (2, 512, 2, 2)),
    "resnet34": (models.ResNet34, 21_797_672, 64, (2, 512, 2, 2)),
}


@pytest.fixture(scope="module")
def built():
    """Each model once, with 1000 classes (the counts are torchvision's at 1000)."""
    cache = {}

    def get(name):
        if name not in cache:
            mg.manual_seed(0)
            cache[name] = SPECS[name][0]()
        return cache[name]

    yield get
    cache.clear()


def small_input(name, batch=2, seed=0):
    side = SPECS[name][2]
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, 3, side, side)).astype(np.float32)


# ---- structure and counts -------------------------------------------------------------------
@pytest.mark.parametrize("name", list(SPECS))
def test_parameter_counts_are_torchvisions(built, name):
    model = built(name)
    assert sum(p.numel() for p in model.parameters()) == SPECS[name][1]
    assert all(p.dtype == mg.float32 for p in model.parameters())


def test_vgg_batch_norm_adds_a_weight_and_a_bias_per_conv_channel():
    # torchvision: vgg11_bn 132,868,840 and vgg16_bn 138,365,992 parameters
    for config, extra in (("A", 2 * 2_752), ("D", 2 * 4_224)):
        plain = sum(p.numel() for p in models.vgg.make_layers(models.vgg.cfgs[config]).parameters())
        with_bn = models.vgg.make_layers(models.vgg.cfgs[config], batch_norm=True)
        assert sum(p.numel() for p in with_bn.parameters()) - plain == extra
        assert isinstance(with_bn[1], nn.BatchNorm2d) and isinstance(with_bn[2], nn.ReLU)


def test_state_dict_keys_are_torchvisions(built):
    alexnet = list(built("alexnet").state_dict())
    assert alexnet[:2] == ["features.0.weight", "features.0.bias"]
    assert alexnet[-2:] == ["classifier.6.weight", "classifier.6.bias"]
    assert "features.10.weight" in alexnet and "classifier.1.weight" in alexnet
    vgg16 = list(built("vgg16").state_dict())
    assert "features.28.weight" in vgg16 and "classifier.3.weight" in vgg16
    assert len([key for key in vgg16 if key.startswith("features")]) == 2 * 13
    resnet18 = built("resnet18").state_dict()
    assert list(resnet18)[:7] == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
                                  "bn1.running_var", "bn1.num_batches_tracked",
                                  "layer1.0.conv1.weight"]
    assert "layer2.0.downsample.0.weight" in resnet18
    assert "layer2.0.downsample.1.running_var" in resnet18
    assert "layer1.0.downsample.0.weight" not in resnet18  # same shape: identity shortcut
    assert list(resnet18)[-2:] == ["fc.weight", "fc.bias"]
    resnet34 = built("resnet34").state_dict()
    assert "layer3.5.bn2.weight" in resnet34 and "layer3.6.bn2.weight" not in resnet34


def test_num_classes_sets_the_last_layer():
    mg.manual_seed(0)
    model = models.ResNet18(num_classes=7)
    assert model.fc.weight.shape == (7, 512)
    assert model(mg.randn(2, 3, 32, 32)).shape == (2, 7)  # BatchNorm needs 2 in training
    assert isinstance(models.resnet34(num_classes=3), models.ResNet34)


# ---- forward and backward on small inputs ---------------------------------------------------
@pytest.mark.parametrize("name", list(SPECS))
def test_forward_and_backward_on_a_small_input(built, name):
    model = built(name)
    model.train()
    model.zero_grad()
    x = mg.tensor(small_input(name), requires_grad=True)
    summary = mg.summary(model, (2, 3) + x.shape[2:])
    rows = {row.name: row.output_shape for row in summary.rows}
    last_features = rows["features"] if "features" in rows else rows["layer4"]
    assert last_features == SPECS[name][3]
    logits = model(x)
    assert logits.shape == (2, 1000) and logits.dtype == mg.float32
    F.cross_entropy(logits, mg.tensor([3, 999])).backward()
    assert x.grad.shape == x.shape and x.grad.dtype == mg.float32
    assert float(np.abs(x.grad.data).sum()) > 0
    for parameter_name, parameter in model.named_parameters():
        assert parameter.grad is not None, parameter_name
        assert parameter.grad.shape == parameter.shape, parameter_name
        assert parameter.grad.dtype == mg.float32, parameter_name
    model.zero_grad()


def test_feature_map_shapes_of_resnet18_on_64x64(built):
    rows = {row.name: row.output_shape
            for row in mg.summary(built("resnet18"), (2, 3, 64, 64)).rows}
    assert rows["conv1"] == (2, 64, 32, 32)
    assert rows["maxpool"] == (2, 64, 16, 16)
    assert rows["layer1"] == (2, 64, 16, 16)
    assert rows["layer2"] == (2, 128, 8, 8)
    assert rows["layer2.0.downsample"] == (2, 128, 8, 8)
    assert rows["layer3"] == (2, 256, 4, 4)
    assert rows["avgpool"] == (2, 512, 1, 1)
    assert rows["fc"] == (2, 1000)


def test_vgg_and_alexnet_pool_small_maps_up_to_the_classifier_size(built):
    # a 1x1 feature map is spread over the 7x7 (6x6) grid the classifier expects
    for name, pooled in (("vgg11", (1, 512, 7, 7)), ("alexnet", (1, 256, 6, 6))):
        side = SPECS[name][2]
        rows = {row.name: row.output_shape
                for row in mg.summary(built(name), (1, 3, side, side)).rows}
        assert rows["features"] == (1,) + SPECS[name][3][1:]
        assert rows["avgpool"] == pooled


def test_alexnet_input_smaller_than_63_fails():
    mg.manual_seed(0)
    body = models.AlexNet(num_classes=2).features
    assert body(mg.randn(1, 3, 63, 63)).shape == (1, 256, 1, 1)
    with pytest.raises((RuntimeError, ValueError)):
        body(mg.randn(1, 3, 62, 62))


# ---- torchvision's init ---------------------------------------------------------------------
def test_vgg_init_is_torchvisions(built):
    model = built("vgg16")
    conv = model.features[0]   # 3 -> 64, 3x3: fan_out = 64 * 9
    std = math.sqrt(2.0 / (64 * 9))
    assert abs(float(conv.weight.data.std()) / std - 1) < 0.1
    assert not conv.bias.data.any()
    deep = model.features[28]  # 512 -> 512: fan_out = 512 * 9, 2.4M weights
    assert abs(float(deep.weight.data.std()) / math.sqrt(2.0 / (512 * 9)) - 1) < 0.01
    for index in (0, 3, 6):
        linear = model.classifier[index]
        assert abs(float(linear.weight.data[:256].std()) / 0.01 - 1) < 0.01
        assert not linear.bias.data.any()


def test_resnet_init_is_torchvisions(built):
    model = built("resnet18")
    conv = model.layer4[0].conv2  # 512 -> 512, 3x3
    assert abs(float(conv.weight.data.std()) / math.sqrt(2.0 / (512 * 9)) - 1) < 0.01
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            assert (module.weight.data == 1).all() and not module.bias.data.any()
    bound = 1 / math.sqrt(512)  # fc keeps nn.Linear's default U(-1/sqrt(in), 1/sqrt(in))
    assert np.abs(model.fc.weight.data).max() <= bound
    assert np.abs(model.fc.bias.data).max() <= bound
    assert float(model.fc.weight.data.std()) > 0.5 * bound / math.sqrt(3)


def test_zero_init_residual_starts_every_block_as_the_identity():
    mg.manual_seed(0)
    model = models.ResNet18(num_classes=4, zero_init_residual=True)
    for name, module in model.named_modules():
        if isinstance(module, models.BasicBlock):
            assert not module.bn2.weight.data.any(), name
            assert (module.bn1.weight.data == 1).all(), name


def test_alexnet_keeps_pytorchs_default_init(built):
    model = built("alexnet")
    first = model.features[0]  # fan_in 3 * 11 * 11
    bound = 1 / math.sqrt(3 * 11 * 11)
    assert np.abs(first.weight.data).max() <= bound and np.abs(first.bias.data).max() <= bound
    assert float(first.bias.data.std()) > 0


# ---- PyTorch twins, built from torch.nn as torchvision builds them --------------------------
def torch_alexnet(torch_nn, num_classes=1000):
    class AlexNet(torch_nn.Module):
        def __init__(self):
            super().__init__()
            self.features = torch_nn.Sequential(
                torch_nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
                torch_nn.ReLU(inplace=True),
                torch_nn.MaxPool2d(kernel_size=3, stride=2),
                torch_nn.Conv2d(64, 192, kernel_size=5, padding=2),
                torch_nn.ReLU(inplace=True),
                torch_nn.MaxPool2d(kernel_size=3, stride=2),
                torch_nn.Conv2d(192, 384, kernel_size=3, padding=1),
                torch_nn.ReLU(inplace=True),
                torch_nn.Conv2d(384, 256, kernel_size=3, padding=1),
                torch_nn.ReLU(inplace=True),
                torch_nn.Conv2d(256, 256, kernel_size=3, padding=1),
                torch_nn.ReLU(inplace=True),
                torch_nn.MaxPool2d(kernel_size=3, stride=2),
            )
            self.avgpool = torch_nn.AdaptiveAvgPool2d((6, 6))
            self.classifier = torch_nn.Sequential(
                torch_nn.Dropout(p=0.5),
                torch_nn.Linear(256 * 6 * 6, 4096),
                torch_nn.ReLU(inplace=True),
                torch_nn.Dropout(p=0.5),
                torch_nn.Linear(4096, 4096),
                torch_nn.ReLU(inplace=True),
                torch_nn.Linear(4096, num_classes),
            )

        def forward(self, x):
            return self.classifier(self.avgpool(self.features(x)).flatten(1))

    return AlexNet()


def torch_vgg(torch_nn, cfg, num_classes=1000):
    class VGG(torch_nn.Module):
        def __init__(self):
            super().__init__()
            layers, in_channels = [], 3
            for value in cfg:
                if value == "M":
                    layers.append(torch_nn.MaxPool2d(kernel_size=2, stride=2))
                else:
                    layers += [torch_nn.Conv2d(in_channels, value, kernel_size=3, padding=1),
                               torch_nn.ReLU(inplace=True)]
                    in_channels = value
            self.features = torch_nn.Sequential(*layers)
            self.avgpool = torch_nn.AdaptiveAvgPool2d((7, 7))
            self.classifier = torch_nn.Sequential(
                torch_nn.Linear(512 * 7 * 7, 4096),
                torch_nn.ReLU(True),
                torch_nn.Dropout(p=0.5),
                torch_nn.Linear(4096, 4096),
                torch_nn.ReLU(True),
                torch_nn.Dropout(p=0.5),
                torch_nn.Linear(4096, num_classes),
            )

        def forward(self, x):
            return self.classifier(self.avgpool(self.features(x)).flatten(1))

    return VGG()


def torch_resnet(torch_nn, layers, num_classes=1000):
    def conv3x3(in_planes, out_planes, stride=1):
        return torch_nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1,
                               bias=False)

    class BasicBlock(torch_nn.Module):
        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = conv3x3(inplanes, planes, stride)
            self.bn1 = torch_nn.BatchNorm2d(planes)
            self.relu = torch_nn.ReLU(inplace=True)
            self.conv2 = conv3x3(planes, planes)
            self.bn2 = torch_nn.BatchNorm2d(planes)
            self.downsample = downsample
            self.stride = stride

        def forward(self, x):
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            if self.downsample is not None:
                identity = self.downsample(x)
            out += identity
            return self.relu(out)

    class ResNet(torch_nn.Module):
        def __init__(self):
            super().__init__()
            self.inplanes = 64
            self.conv1 = torch_nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = torch_nn.BatchNorm2d(64)
            self.relu = torch_nn.ReLU(inplace=True)
            self.maxpool = torch_nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = self._make_layer(64, layers[0])
            self.layer2 = self._make_layer(128, layers[1], stride=2)
            self.layer3 = self._make_layer(256, layers[2], stride=2)
            self.layer4 = self._make_layer(512, layers[3], stride=2)
            self.avgpool = torch_nn.AdaptiveAvgPool2d((1, 1))
            self.fc = torch_nn.Linear(512, num_classes)

        def _make_layer(self, planes, blocks, stride=1):
            downsample = None
            if stride != 1 or self.inplanes != planes:
                downsample = torch_nn.Sequential(
                    torch_nn.Conv2d(self.inplanes, planes, kernel_size=1, stride=stride,
                                    bias=False),
                    torch_nn.BatchNorm2d(planes))
            blocks_list = [BasicBlock(self.inplanes, planes, stride, downsample)]
            self.inplanes = planes
            blocks_list += [BasicBlock(planes, planes) for _ in range(1, blocks)]
            return torch_nn.Sequential(*blocks_list)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet()


def torch_twin(torch, name, model):
    """The torchvision-equivalent PyTorch module holding `model`'s weights and buffers."""
    builders = {
        "alexnet": lambda: torch_alexnet(torch.nn),
        "vgg11": lambda: torch_vgg(torch.nn, models.vgg.cfgs["A"]),
        "vgg16": lambda: torch_vgg(torch.nn, models.vgg.cfgs["D"]),
        "resnet18": lambda: torch_resnet(torch.nn, [2, 2, 2, 2]),
        "resnet34": lambda: torch_resnet(torch.nn, [3, 4, 6, 3]),
    }
    twin = builders[name]()
    ours = model.state_dict()
    assert list(ours) == list(twin.state_dict())
    # strict=True: any missing or unexpected key fails here
    twin.load_state_dict({key: torch.from_numpy(np.array(value.data)) for key, value in
                          ours.items()})
    return twin


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _scaled_close(actual, expected, rtol):
    """Close up to rtol of the largest magnitude (outputs near 0 carry no relative meaning)."""
    scale = float(np.abs(expected).max())
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("name", list(SPECS))
def test_eval_outputs_equal_the_torchvision_twin(built, torch, name):
    # same random weights on both sides (copied via state_dict), eval mode, float32:
    # logits agree to 1e-4 of their largest magnitude
    model = built(name)
    model.eval()
    if name.startswith("resnet"):  # non-trivial running statistics, copied too
        rng = np.random.default_rng(1)
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                channels = module.num_features
                module.running_mean.data[...] = rng.normal(0, 0.1, channels)
                module.running_var.data[...] = rng.uniform(0.5, 2.0, channels)
    twin = torch_twin(torch, name, model).eval()
    assert repr(model) == repr(twin).replace("ResNet(", f"{type(model).__name__}(", 1) \
        .replace("VGG(", f"{type(model).__name__}(", 1)
    x = small_input(name, batch=2, seed=2)
    with mg.no_grad():
        ours = model(mg.tensor(x)).numpy()
    with torch.no_grad():
        theirs = twin(torch.from_numpy(x)).numpy()
    _scaled_close(ours, theirs, rtol=1e-4)
    model.train()


def test_resnet18_trains_like_its_twin(built, torch):
    # training mode: batch statistics in every BatchNorm; loss, input and weight gradients
    # and the updated running statistics agree (float32, rtol 1e-4 of the largest magnitude)
    model = built("resnet18")
    model.train()
    model.zero_grad()
    twin = torch_twin(torch, "resnet18", model).train()
    x = small_input("resnet18", batch=4, seed=3)
    labels = np.array([0, 10, 500, 999])
    ours_x = mg.tensor(x, requires_grad=True)
    loss = F.cross_entropy(model(ours_x), mg.tensor(labels))
    loss.backward()
    theirs_x = torch.from_numpy(x).requires_grad_()
    torch_loss = torch.nn.functional.cross_entropy(twin(theirs_x), torch.from_numpy(labels))
    torch_loss.backward()
    np.testing.assert_allclose(loss.item(), torch_loss.item(), rtol=1e-5)
    _scaled_close(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-4)
    theirs = dict(twin.named_parameters())
    for name, parameter in model.named_parameters():
        _scaled_close(parameter.grad.numpy(), theirs[name].grad.numpy(), rtol=1e-4)
    buffers = dict(twin.named_buffers())
    for name, buffer in model.named_buffers():
        np.testing.assert_allclose(buffer.numpy(), buffers[name].numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=name)
    model.zero_grad()


def test_cifar_style_resnet18_and_vgg11_bn_take_32x32_inputs():
    # small_input=True: a 3x3 stride-1 stem and no max-pool for ResNet (11,173,962 parameters
    # with 10 classes, the usual CIFAR ResNet-18), a 1x1 pool and a 512-wide classifier for
    # VGG; the state_dict keys stay torchvision's
    resnet = models.resnet18(num_classes=10, small_input=True)
    assert resnet.conv1.weight.shape == (64, 3, 3, 3)
    assert isinstance(resnet.maxpool, nn.Identity)
    assert sum(p.numel() for p in resnet.parameters()) == 11_173_962
    assert list(resnet.state_dict()) == list(models.resnet18(num_classes=10).state_dict())
    vgg = models.vgg11_bn(num_classes=10, small_input=True)
    assert vgg.classifier[0].weight.shape == (512, 512)
    assert list(vgg.state_dict()) == list(models.vgg11_bn(num_classes=10).state_dict())
    x = mg.randn(2, 3, 32, 32)
    assert resnet(x).shape == (2, 10)
    assert vgg(x).shape == (2, 10)
    with pytest.raises(TypeError):
        models.resnet18(small_inputs=True)
