-- 接入报文 × 登记：one row per row of JR_BW (same _BATCH, _ROW): the registration a message belongs to.
WITH registrations AS (
    SELECT _BATCH, YWH, min(DJLX) AS djlx
    FROM (SELECT _BATCH, YWH, DJLX FROM QLT_FW_FDCQ_YZ UNION ALL SELECT _BATCH, YWH, DJLX FROM QLF_QL_DYAQ)
    WHERE YWH IS NOT NULL GROUP BY _BATCH, YWH
)
SELECT b._BATCH, b._ROW, b.QXDM, b.YWH, b.BIZMSGID, b.RECTYPE,
    CASE WHEN b.YWH IS NULL THEN NULL WHEN r.YWH IS NULL THEN '0' ELSE '1' END AS REG_FOUND,
    r.djlx AS REG_DJLX
FROM JR_BW b LEFT JOIN registrations r ON r._BATCH = b._BATCH AND r.YWH = b.YWH
