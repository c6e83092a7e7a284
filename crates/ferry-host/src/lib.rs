//! Host library (being written).
