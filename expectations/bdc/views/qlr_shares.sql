-- 按份共有份额：one row per registration (_BATCH, YWH) that has holders with GYFS = 2. QLBL_SUM is NULL when
-- a share is empty or not a number (bdc.qlr.qlbl.required / bdc.qlr.qlbl.range report those rows).
-- _ROW is the first holder row of the registration.
SELECT _BATCH, CAST(min(CAST(_ROW AS BIGINT)) AS VARCHAR) AS _ROW, min(QXDM) AS QXDM, YWH,
    CAST(count(*) AS VARCHAR) AS HOLDERS_N,
    CASE WHEN count(*) = count(dq_dec(QLBL)) THEN CAST(sum(dq_dec(QLBL)) AS VARCHAR) END AS QLBL_SUM
FROM ZTT_GY_QLR
WHERE GYFS = '2' AND YWH IS NOT NULL
GROUP BY _BATCH, YWH
