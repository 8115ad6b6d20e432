-- A borrowing request's mode (借阅方式, 第十三条): view (查阅) or copy (复制). NULL on a request
-- filed before modes were told apart, which granted reading and downloading.
ALTER TABLE borrowing_requests ADD COLUMN mode text CHECK (mode IN ('view', 'copy'));
