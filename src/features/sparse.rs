//! Sparse vectors: the feature stage's output ([`SparseVec`]), a borrowed
//! view of one ([`SparseRef`]), and the many rows of a training corpus
//! stored in blocks (`SparseRows`).

/// A sparse vector: sorted, distinct indices with their values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseVec {
    /// Feature indices, strictly increasing.
    pub indices: Vec<u32>,
    /// One value per index.
    pub values: Vec<f32>,
}

impl SparseVec {
    /// Number of stored entries.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// True if the vector has no entries.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// Iterates over `(index, value)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (u32, f32)> + '_ {
        self.view().iter()
    }

    /// The vector as a borrowed view.
    pub fn view(&self) -> SparseRef<'_> {
        SparseRef {
            indices: &self.indices,
            values: &self.values,
        }
    }
}

/// A borrowed sparse vector: a [`SparseVec`], or one row of many stored
/// together (as training stores a corpus).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SparseRef<'a> {
    /// Feature indices, strictly increasing.
    pub indices: &'a [u32],
    /// One value per index.
    pub values: &'a [f32],
}

impl<'a> SparseRef<'a> {
    /// Number of stored entries.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// True if the vector has no entries.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// Iterates over `(index, value)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (u32, f32)> + 'a {
        self.indices
            .iter()
            .copied()
            .zip(self.values.iter().copied())
    }
}

impl<'a> From<&'a SparseVec> for SparseRef<'a> {
    fn from(x: &'a SparseVec) -> Self {
        x.view()
    }
}

/// Many sparse vectors, row after row, in blocks of [`SparseRows::BLOCK`]
/// rows that each keep all their indices in one buffer and all their
/// values in another: two allocations a block instead of two a row, and
/// blocks filled on several threads join without a copy.
#[cfg(feature = "train")]
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SparseRows {
    blocks: Vec<RowBlock>,
    len: usize,
}

#[cfg(feature = "train")]
#[derive(Debug, Clone, Default, PartialEq)]
struct RowBlock {
    /// Where each row ends in `indices` and `values`.
    ends: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f32>,
}

#[cfg(feature = "train")]
impl SparseRows {
    /// Rows per block.
    pub(crate) const BLOCK: usize = 2048;

    /// Appends a row.
    pub(crate) fn push(&mut self, x: SparseRef<'_>) {
        if !matches!(self.blocks.last(), Some(b) if b.ends.len() < Self::BLOCK) {
            self.blocks.push(RowBlock::default());
        }
        let block = self.blocks.last_mut().expect("a block was just made");
        block.indices.extend_from_slice(x.indices);
        block.values.extend_from_slice(x.values);
        block.ends.push(block.indices.len());
        self.len += 1;
    }

    /// Appends `other`'s rows. Without a copy when every block of `self`
    /// is full, as when each part of a corpus filled whole blocks.
    pub(crate) fn append(&mut self, other: SparseRows) {
        if self.len % Self::BLOCK == 0 {
            self.len += other.len;
            self.blocks.extend(other.blocks);
        } else {
            other.iter().for_each(|x| self.push(x));
        }
    }

    /// Row `i`.
    ///
    /// # Panics
    ///
    /// If there is no row `i`.
    pub(crate) fn row(&self, i: usize) -> SparseRef<'_> {
        let block = &self.blocks[i / Self::BLOCK];
        let r = i % Self::BLOCK;
        let start = if r == 0 { 0 } else { block.ends[r - 1] };
        let end = block.ends[r];
        SparseRef {
            indices: &block.indices[start..end],
            values: &block.values[start..end],
        }
    }

    /// The rows in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = SparseRef<'_>> + '_ {
        (0..self.len).map(|i| self.row(i))
    }
}
