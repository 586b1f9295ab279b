import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

# The suite runs on 2 cores in CI; keep torch from oversubscribing them.
torch.set_num_threads(min(2, torch.get_num_threads()))

CUDA = torch.cuda.is_available()
requires_cuda = pytest.mark.skipif(not CUDA, reason="needs a CUDA device")


@pytest.fixture(scope="session")
def digits():
    """Digits split 75/25 (stratified), raw pixel values 0..16."""
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)


@pytest.fixture(scope="session")
def digits01(digits):
    """Digits scaled to [0, 1] with a scaler fitted on the training part."""
    X_train, X_test, y_train, y_test = digits
    scaler = MinMaxScaler().fit(X_train)
    return scaler.transform(X_train), np.clip(scaler.transform(X_test), 0, 1), y_train, y_test
