-- DimCategory: one row per product category, flattened with its parent and top-level
-- category (the tree is at most two levels deep in the generated data; deeper trees get
-- the root through the recursive walk). Natural key CategoryKey = category_id.
WITH RECURSIVE tree AS (
    SELECT category_id, name, parent_category_id, category_id AS root_id, 1 AS level
    FROM silver.category
    WHERE parent_category_id IS NULL
    UNION ALL
    SELECT c.category_id, c.name, c.parent_category_id, t.root_id, t.level + 1
    FROM silver.category AS c
    JOIN tree AS t ON c.parent_category_id = t.category_id
)
SELECT
    t.category_id          AS CategoryKey,
    t.name                 AS CategoryName,
    t.parent_category_id   AS ParentCategoryKey,
    parent.name            AS ParentCategoryName,
    root.name              AS TopLevelCategoryName,
    t.level                AS Level
FROM tree AS t
LEFT JOIN silver.category AS parent ON parent.category_id = t.parent_category_id
JOIN silver.category AS root ON root.category_id = t.root_id
